package invokeapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/async"
)

// Invocation types (X-Amz-Invocation-Type).
const (
	invocationRequestResponse = "RequestResponse"
	invocationEvent           = "Event"
	invocationDryRun          = "DryRun"
)

// Payload limits: 6 MB synchronous (executor.MaxPayloadSize), 1 MB
// asynchronous (the current Invoke reference, "Request Body":
// https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_RequestBody; it was 256 KB
// until 2025).
const (
	MaxSyncPayload  = executor.MaxPayloadSize
	MaxAsyncPayload = async.MaxPayloadSize
	// ReadBufferSize is the admin server's fasthttp ReadBufferSize: it
	// holds a request with a maximal X-Amz-Client-Context and SigV4
	// headers (fasthttp answers 431 when the headers do not fit).
	ReadBufferSize = 16 * 1024
	// tailLogSize is how much log X-Amz-Log-Result carries.
	tailLogSize = 4 * 1024
)

// Response headers of Invoke.
const (
	headerExecutedVersion = "X-Amz-Executed-Version"
	headerFunctionError   = "X-Amz-Function-Error"
	headerLogResult       = "X-Amz-Log-Result"
)

// emptyPayload is what the function receives when the caller sent no body
// (UNCONFIRMED: real Lambda is believed to pass "{}").
const emptyPayload = "{}"

// invoke serves POST /2015-03-31/functions/{name}/invocations.
func (a *API) invoke(ctx *fasthttp.RequestCtx, requestID, name string) *apiError {
	fn, e := a.resolve(ctx, name)
	if e != nil {
		return e
	}
	h := &ctx.Request.Header
	typ := string(h.Peek("X-Amz-Invocation-Type"))
	if typ == "" {
		typ = invocationRequestResponse
	}
	logType := string(h.Peek("X-Amz-Log-Type"))
	if logType != "" && logType != "None" && logType != "Tail" {
		return errValidation("Value '" + logType + "' at 'logType' failed to satisfy constraint: " +
			"Member must satisfy enum value set: [Tail, None]")
	}
	body := ctx.PostBody()
	switch typ {
	case invocationRequestResponse, invocationDryRun:
		if len(body) > MaxSyncPayload {
			return errTooLarge(len(body), MaxSyncPayload, "InvokeFunction")
		}
	case invocationEvent:
		return a.enqueue(ctx, requestID, fn, body)
	default:
		return newError(fasthttp.StatusUnsupportedMediaType, excUnsupportedMediaType,
			"Unsupported invocation type: "+typ)
	}
	if e := checkPayload(body); e != nil {
		return e
	}
	clientContext := string(h.Peek("X-Amz-Client-Context"))
	if e := checkClientContext(clientContext); e != nil {
		return e
	}
	if typ == invocationDryRun {
		writeEmpty(ctx, fasthttp.StatusNoContent, requestID)
		return nil
	}

	req := executor.Request{
		Function:      fn.Name,
		Payload:       ownPayload(body),
		ClientContext: clientContext,
		TailLog:       logType == "Tail",
	}
	resp, err := a.inv.Invoke(a.baseCtx, req)
	if errors.Is(err, context.DeadlineExceeded) {
		// A remote function's call got no answer within its timeout (a
		// local function's timeout is already a function error): Lambda's
		// answer for a function that ran out of time, 200 with a
		// Sandbox.Timedout function error. A 5xx would be retried by the
		// SDKs, running a function that may have done its work up to four
		// more times.
		resp, err = executor.TimedOut(requestID, fn.Timeout), nil
	}
	if err != nil {
		return invokeError(fn, a.arnOf(fn), err)
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	rh := &ctx.Response.Header
	rid := resp.RequestID
	if rid == "" {
		rid = requestID
	}
	rh.Set(headerRequestID, rid)
	rh.Set(headerExecutedVersion, latest)
	if resp.FunctionError != "" {
		rh.Set(headerFunctionError, resp.FunctionError)
	}
	if req.TailLog {
		log := resp.Log
		if len(log) > tailLogSize {
			log = log[len(log)-tailLogSize:]
		}
		var buf [base64Len4K]byte
		rh.SetBytesV(headerLogResult, base64.StdEncoding.AppendEncode(buf[:0], log))
	}
	ctx.SetContentType(contentTypeJSON)
	ctx.Response.SetBodyRaw(resp.Payload)
	return nil
}

// base64Len4K is the encoded length of a 4 KB tail.
const base64Len4K = (tailLogSize + 2) / 3 * 4

// enqueue serves an Event invocation: 202 once the queue has the event
// durably.
func (a *API) enqueue(ctx *fasthttp.RequestCtx, requestID string, fn executor.Function, body []byte) *apiError {
	if len(body) > MaxAsyncPayload {
		return errTooLarge(len(body), MaxAsyncPayload, "InvokeAsync")
	}
	if e := checkPayload(body); e != nil {
		return e
	}
	if a.queue == nil {
		return errService("Asynchronous invocation is not available: albedo runs without an event queue.")
	}
	id, err := a.queue.Enqueue(a.baseCtx, fn.Name, ownPayload(body))
	if err != nil {
		switch {
		case errors.Is(err, executor.ErrFunctionNotFound):
			return errNotFound("Function not found: " + a.arnOf(fn))
		case errors.Is(err, executor.ErrPayloadTooLarge):
			return errTooLarge(len(body), MaxAsyncPayload, "InvokeAsync")
		}
		return errService("The event could not be queued: " + err.Error())
	}
	if id == "" {
		id = requestID
	}
	writeEmpty(ctx, fasthttp.StatusAccepted, id)
	return nil
}

// invokeAsync serves the deprecated InvokeAsync operation
// (POST /2014-11-13/functions/{name}/invoke-async/): an Event invocation.
func (a *API) invokeAsync(ctx *fasthttp.RequestCtx, requestID, name string) *apiError {
	fn, e := a.resolve(ctx, name)
	if e != nil {
		return e
	}
	if e := a.enqueue(ctx, requestID, fn, ctx.PostBody()); e != nil {
		return e
	}
	ctx.SetContentType(contentTypeJSON)
	ctx.SetBodyString(`{"Status":202}`)
	return nil
}

// ownPayload copies body out of fasthttp's buffer: the executor and the
// queue own the payload after the call, while fasthttp reuses body once the
// handler returns.
func ownPayload(body []byte) []byte {
	if len(body) == 0 {
		return []byte(emptyPayload)
	}
	return bytes.Clone(body)
}

// checkPayload rejects a body that is not JSON. An empty body is allowed.
func checkPayload(body []byte) *apiError {
	if len(body) == 0 || json.Valid(body) {
		return nil
	}
	var v any
	msg := "Could not parse request body into json: Could not parse payload into json"
	if err := json.Unmarshal(body, &v); err != nil {
		msg += ": " + err.Error()
	}
	return newError(fasthttp.StatusBadRequest, excInvalidRequestContent, msg)
}

// checkClientContext validates X-Amz-Client-Context: at most 3583 bytes of
// base64 that decode to a JSON object (aws-lambda-go rejects anything
// else).
func checkClientContext(s string) *apiError {
	if s == "" {
		return nil
	}
	bad := len(s) > maxClientContextLen
	if !bad {
		raw, err := base64.StdEncoding.DecodeString(s)
		bad = err != nil || !isJSONObject(raw)
	}
	if bad {
		return newError(fasthttp.StatusBadRequest, excInvalidRequestContent,
			"Client context must be a valid Base64-encoded JSON object of at most 3583 bytes.")
	}
	return nil
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

func errTooLarge(got, limit int, op string) *apiError {
	msg := "Request must be smaller than " + strconv.Itoa(limit) + " bytes"
	if op != "" {
		msg += " for the " + op + " operation"
	}
	return newError(fasthttp.StatusRequestEntityTooLarge, excRequestTooLarge, msg)
}

// invokeError maps an executor error to Lambda's invocation error.
func invokeError(fn executor.Function, arn string, err error) *apiError {
	var te *executor.ThrottleError
	switch {
	case errors.As(err, &te):
		e := newError(fasthttp.StatusTooManyRequests, excTooManyRequests, "Rate Exceeded.")
		e.Reason = te.Reason
		if e.Reason == "" {
			e.Reason = executor.ReasonConcurrent
		}
		return e
	case errors.Is(err, executor.ErrThrottled):
		e := newError(fasthttp.StatusTooManyRequests, excTooManyRequests, "Rate Exceeded.")
		e.Reason = executor.ReasonConcurrent
		if fn.Reserved >= 0 {
			e.Reason = executor.ReasonReserved
		}
		return e
	case errors.Is(err, executor.ErrFunctionNotFound):
		return errNotFound("Function not found: " + arn)
	case errors.Is(err, executor.ErrPayloadTooLarge):
		return errTooLarge(MaxSyncPayload+1, MaxSyncPayload, "InvokeFunction")
	}
	return errService("An error occurred during the invocation of " + arn + ": " + err.Error())
}
