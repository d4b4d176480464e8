package executor

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Runtime API paths (version 2018-06-01) and the Extensions API subset.
const (
	runtimePrefix   = "/2018-06-01/runtime/"
	extensionPrefix = "/2020-01-01/extension/"

	hdrRequestID     = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadline      = "Lambda-Runtime-Deadline-Ms"
	hdrFunctionARN   = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTraceID       = "Lambda-Runtime-Trace-Id"
	hdrClientContext = "Lambda-Runtime-Client-Context"
	hdrCognito       = "Lambda-Runtime-Cognito-Identity"
	hdrErrorType     = "Lambda-Runtime-Function-Error-Type"
	hdrErrorBody     = "Lambda-Runtime-Function-Error-Body"
	hdrExtName       = "Lambda-Extension-Name"
	hdrExtID         = "Lambda-Extension-Identifier"
)

var (
	statusOK       = []byte(`{"status":"OK"}`)
	tooLargeBody   = marshalError("RequestEntityTooLarge", "Exceeded maximum allowed payload size ("+strconv.Itoa(MaxResponseSize)+" bytes).")
	badIDBody      = marshalError("InvalidRequestID", "Invalid request ID")
	badStateBody   = marshalError("InvalidStateTransition", "State transition is not allowed")
	notFoundBody   = marshalError("NotFound", "Unknown Runtime API path")
	badMethodBody  = marshalError("MethodNotAllowed", "Method not allowed")
	missingExtBody = marshalError("Extension.MissingName", "Missing Lambda-Extension-Name header")
	truncatedBody  = marshalError("TruncatedHTTPRequest", "Could not read the request body")
)

// ServeHTTP routes the Runtime API and the minimal Extensions API of one
// execution environment. Client mistakes get 4xx with Lambda's JSON error
// body; nothing here answers 5xx.
func (e *env) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, runtimePrefix); ok {
		switch {
		case rest == "invocation/next":
			if allow(w, r, http.MethodGet) {
				e.handleNext(w, r)
			}
			return
		case rest == "init/error":
			if allow(w, r, http.MethodPost) {
				e.handleInitError(w, r)
			}
			return
		}
		if rest, ok := strings.CutPrefix(rest, "invocation/"); ok {
			if id, action, ok := strings.Cut(rest, "/"); ok && id != "" && (action == "response" || action == "error") {
				if allow(w, r, http.MethodPost) {
					e.handleResult(w, r, id, action == "error")
				}
				return
			}
		}
	} else if rest, ok := strings.CutPrefix(path, extensionPrefix); ok {
		switch rest {
		case "register":
			if allow(w, r, http.MethodPost) {
				e.handleRegister(w, r)
			}
			return
		case "event/next":
			if allow(w, r, http.MethodGet) {
				e.handleExtensionNext(w, r)
			}
			return
		case "init/error", "exit/error":
			if allow(w, r, http.MethodPost) {
				io.Copy(io.Discard, io.LimitReader(r.Body, MaxResponseSize))
				render(w, http.StatusAccepted, statusOK)
			}
			return
		}
	}
	render(w, http.StatusNotFound, notFoundBody)
}

func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header()["Allow"] = []string{method}
	render(w, http.StatusMethodNotAllowed, badMethodBody)
	return false
}

func render(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}

// handleNext parks until an invocation is handed over, then returns it.
// The first call ends the environment's init phase.
func (e *env) handleNext(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	if e.waiting || (e.current != nil && e.current.delivered) {
		e.mu.Unlock()
		render(w, http.StatusForbidden, badStateBody)
		return
	}
	if !e.initialized {
		e.initialized = true
		e.initDuration = time.Since(e.start)
		close(e.ready)
		e.log.Debug("environment initialized", "pid", e.pid, "init_ms", e.initDuration.Milliseconds())
	}
	e.waiting = true
	e.mu.Unlock()

	var inv *invocation
	select {
	case inv = <-e.next:
	case <-e.dead:
	case <-r.Context().Done():
	}

	e.mu.Lock()
	e.waiting = false
	if inv == nil {
		e.mu.Unlock()
		return
	}
	inv.delivered = true
	e.logInv = inv
	line := appendStart(make([]byte, 0, 64), inv.id)
	if inv.wantTail {
		inv.tail = append(append(inv.tail, line...), '\n')
	}
	e.mu.Unlock()
	e.p.flog.writeLine(line)

	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(inv.payload))}
	h[hdrRequestID] = []string{inv.id}
	h[hdrDeadline] = []string{strconv.FormatInt(inv.deadline.UnixMilli(), 10)}
	h[hdrFunctionARN] = []string{e.fn.cfg.ARN}
	h[hdrTraceID] = []string{inv.traceID}
	if inv.clientContext != "" {
		h[hdrClientContext] = []string{inv.clientContext}
	}
	if inv.cognito != "" {
		h[hdrCognito] = []string{inv.cognito}
	}
	w.WriteHeader(http.StatusOK)
	w.Write(inv.payload)
}

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads at most MaxResponseSize bytes of r's body into an owned
// slice. tooLarge reports a bigger body, with size its length (counted up to
// a cap when chunked).
func readBody(r *http.Request) (body []byte, size int64, tooLarge bool, err error) {
	if r.ContentLength > MaxResponseSize {
		return nil, r.ContentLength, true, nil
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			bodyPool.Put(buf)
		}
	}()
	n, err := buf.ReadFrom(io.LimitReader(r.Body, MaxResponseSize+1))
	if err != nil {
		return nil, n, false, err
	}
	if n > MaxResponseSize {
		more, _ := io.Copy(io.Discard, io.LimitReader(r.Body, 64<<20))
		return nil, n + more, true, nil
	}
	return bytes.Clone(buf.Bytes()), n, false, nil
}

// handleResult accepts /response and /error for the invocation in flight.
// The request id is checked before the body is read: a wrong id is 400,
// an id already answered 403.
func (e *env) handleResult(w http.ResponseWriter, r *http.Request, id string, isError bool) {
	if status, body := e.checkID(id); status != 0 {
		render(w, status, body)
		return
	}
	body, size, tooLarge, err := readBody(r)
	if err != nil {
		render(w, http.StatusBadRequest, truncatedBody)
		return
	}
	var res result
	switch {
	case tooLarge:
		res = result{
			functionError: true,
			errorType:     ErrorTypeResponseTooLarge,
			payload: marshalError(ErrorTypeResponseTooLarge, "Response payload size ("+strconv.FormatInt(size, 10)+
				" bytes) exceeded maximum allowed payload size ("+strconv.Itoa(MaxResponseSize)+" bytes)."),
		}
	case isError:
		if len(body) == 0 {
			typ := r.Header.Get(hdrErrorType)
			if typ == "" {
				typ = "Unhandled"
			}
			body = marshalError(typ, "")
		}
		res = result{functionError: true, payload: body}
	default:
		res = result{payload: body}
		// A buffered response that failed midway carries its error in the
		// trailers (aws-lambda-go declares them on every response).
		if typ := r.Trailer.Get(hdrErrorType); typ != "" {
			eb, derr := base64.StdEncoding.DecodeString(r.Trailer.Get(hdrErrorBody))
			if derr != nil || len(eb) == 0 {
				eb = marshalError(typ, "")
			}
			res = result{functionError: true, payload: eb}
		}
	}
	res.end = time.Now()

	e.mu.Lock()
	inv := e.current
	if inv == nil || inv.id != id || !inv.delivered {
		e.mu.Unlock()
		// The invocation timed out (or the environment was stopped) while
		// the body was read.
		render(w, http.StatusForbidden, badStateBody)
		return
	}
	e.current = nil
	e.lastID = id
	e.mu.Unlock()
	inv.done <- res
	if tooLarge {
		render(w, http.StatusRequestEntityTooLarge, tooLargeBody)
		return
	}
	render(w, http.StatusAccepted, statusOK)
}

// checkID validates a request id against the invocation in flight.
func (e *env) checkID(id string) (int, []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if inv := e.current; inv != nil && inv.delivered && inv.id == id {
		return 0, nil
	}
	if id == e.lastID {
		return http.StatusForbidden, badStateBody
	}
	return http.StatusBadRequest, badIDBody
}

// handleInitError records a fatal init error; it is served as the result
// of the invocation waiting for this environment.
func (e *env) handleInitError(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	done := e.initialized || e.initErr != nil
	e.mu.Unlock()
	if done {
		render(w, http.StatusForbidden, badStateBody)
		return
	}
	body, _, tooLarge, err := readBody(r)
	if err != nil {
		render(w, http.StatusBadRequest, truncatedBody)
		return
	}
	if tooLarge {
		render(w, http.StatusRequestEntityTooLarge, tooLargeBody)
		return
	}
	typ := r.Header.Get(hdrErrorType)
	if t := errorTypeOf(body); t != "" {
		typ = t
	}
	if typ == "" {
		typ = ErrorTypeInit
	}
	if len(body) == 0 || !json.Valid(body) {
		body = marshalError(typ, string(body))
	}
	e.mu.Lock()
	if e.initialized || e.initErr != nil {
		e.mu.Unlock()
		render(w, http.StatusForbidden, badStateBody)
		return
	}
	e.initErr, e.initErrType = body, typ
	close(e.initFailed)
	e.mu.Unlock()
	render(w, http.StatusAccepted, statusOK)
}

// handleRegister registers an extension. Any registration makes the
// environment's shutdown graceful (SIGTERM, then SIGKILL), as on Lambda.
func (e *env) handleRegister(w http.ResponseWriter, r *http.Request) {
	name := r.Header.Get(hdrExtName)
	if name == "" {
		render(w, http.StatusForbidden, missingExtBody)
		return
	}
	var req struct {
		Events []string `json:"events"`
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	json.Unmarshal(b, &req)
	e.mu.Lock()
	e.extension = true
	for _, ev := range req.Events {
		if ev == "SHUTDOWN" {
			e.extShutdown = true
		}
	}
	e.mu.Unlock()
	body, _ := json.Marshal(struct {
		FunctionName    string `json:"functionName"`
		FunctionVersion string `json:"functionVersion"`
		Handler         string `json:"handler"`
	}{e.fn.cfg.Name, "$LATEST", e.fn.cfg.Handler})
	w.Header()[hdrExtID] = []string{newRequestID()}
	render(w, http.StatusOK, body)
}

// handleExtensionNext blocks; extensions only get a SHUTDOWN event, and
// only when they subscribed to it (INVOKE events are not sent).
func (e *env) handleExtensionNext(w http.ResponseWriter, r *http.Request) {
	select {
	case <-e.stopping:
	case <-e.dead:
		return
	case <-r.Context().Done():
		return
	}
	e.mu.Lock()
	sub := e.extShutdown
	e.mu.Unlock()
	if !sub {
		select {
		case <-e.dead:
		case <-r.Context().Done():
		}
		return
	}
	body, _ := json.Marshal(struct {
		EventType      string `json:"eventType"`
		ShutdownReason string `json:"shutdownReason"`
		DeadlineMs     int64  `json:"deadlineMs"`
	}{"SHUTDOWN", "spindown", time.Now().Add(ShutdownGrace).UnixMilli()})
	render(w, http.StatusOK, body)
}
