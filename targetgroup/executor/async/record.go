package async

import (
	"encoding/json"
	"time"
)

// Destination record conditions.
const (
	ConditionSuccess          = "Success"
	ConditionRetriesExhausted = "RetriesExhausted"
	ConditionEventAgeExceeded = "EventAgeExceeded"
)

// Record is the invocation record Lambda sends to a destination, in AWS's
// exact JSON shape ("Example invocation record" in
// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html#invocation-async-destinations;
// AWS shows only RetriesExhausted: Success and EventAgeExceeded are the
// conditions LocalStack and the published TypeScript typings use).
type Record struct {
	Version         string          `json:"version"`   // "1.0"
	Timestamp       string          `json:"timestamp"` // RFC 3339, milliseconds, UTC
	RequestContext  RequestContext  `json:"requestContext"`
	RequestPayload  json.RawMessage `json:"requestPayload"`
	ResponseContext ResponseContext `json:"responseContext"`
	// ResponsePayload is the function's result or error object; absent when
	// the function never ran.
	ResponsePayload json.RawMessage `json:"responsePayload,omitempty"`
}

// RequestContext identifies the invocation a Record reports.
type RequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionARN            string `json:"functionArn"` // with the :$LATEST qualifier
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// ResponseContext describes the last attempt.
type ResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError,omitempty"`
}

// timestampLayout is the record timestamp: "2019-11-14T18:16:05.568Z".
const timestampLayout = "2006-01-02T15:04:05.000Z"

// newRecord builds the record for ev finishing with condition at now.
// resp is the last response payload (nil when the function never ran).
func newRecord(ev *event, condition string, now time.Time, functionError string, resp []byte) Record {
	r := Record{
		Version:   "1.0",
		Timestamp: now.UTC().Format(timestampLayout),
		RequestContext: RequestContext{
			RequestID:              ev.RequestID,
			FunctionARN:            ev.FunctionARN + ":$LATEST",
			Condition:              condition,
			ApproximateInvokeCount: ev.Invokes,
		},
		RequestPayload: embedJSON(ev.Payload, "{}"),
		ResponseContext: ResponseContext{
			StatusCode:      ev.LastStatus,
			ExecutedVersion: "$LATEST",
		},
	}
	if r.ResponseContext.StatusCode == 0 {
		// Never attempted (reserved concurrency 0, or expired before the
		// first attempt): reported as a throttle.
		r.ResponseContext.StatusCode = 429
	}
	if ev.LastStatus == 200 {
		// The function ran on the last attempt: its error and payload.
		r.ResponseContext.FunctionError = functionError
		r.ResponsePayload = embedJSON(resp, "null")
	}
	return r
}

// embedJSON returns p as a JSON value: p itself when it is valid JSON, the
// empty value for an empty payload, otherwise p as a JSON string.
func embedJSON(p []byte, empty string) json.RawMessage {
	switch {
	case len(p) == 0:
		return json.RawMessage(empty)
	case json.Valid(p):
		return json.RawMessage(p)
	default:
		s, _ := json.Marshal(string(p))
		return s
	}
}
