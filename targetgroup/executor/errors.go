package executor

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Platform error types reported in Response.ErrorType.
const (
	ErrorTypeTimeout          = "Sandbox.Timedout"
	ErrorTypeExit             = "Runtime.ExitError"
	ErrorTypeOutOfMemory      = "Runtime.OutOfMemory" // Lambda's for some managed runtimes; provided ones get ErrorTypeExit
	ErrorTypeInit             = "Runtime.InitError"
	ErrorTypeInvalidEntry     = "Runtime.InvalidEntrypoint"
	ErrorTypeResponseTooLarge = "Function.ResponseSizeTooLarge"
	ErrorTypeExtensionLaunch  = "Extension.LaunchError"
	ErrorTypeExtensionCrash   = "Extension.Crash"
	ErrorTypeExtensionInit    = "Extension.InitError"
	// FunctionErrorUnhandled is Response.FunctionError for every failure
	// (Lambda's X-Amz-Function-Error).
	FunctionErrorUnhandled = "Unhandled"
)

// MaxResponseSize is the largest response or error body a runtime may post:
// Lambda's 6 MB plus 100 bytes of slack, as AWS's own Runtime API server
// allows (6,291,556 bytes).
const MaxResponseSize = MaxPayloadSize + 100

// BuildError reports a failed `build` command of a function.
type BuildError struct {
	Function string
	Command  []string
	Output   []byte // combined stdout and stderr (its last 8 KB)
	Err      error
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("executor: build of function %s failed: %s: %v\n%s",
		e.Function, strings.Join(e.Command, " "), e.Err, e.Output)
}

func (e *BuildError) Unwrap() error { return e.Err }

// errorPayload is Lambda's error JSON.
type errorPayload struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

func marshalError(typ, msg string) []byte {
	b, _ := json.Marshal(errorPayload{ErrorMessage: msg, ErrorType: typ})
	return b
}

// platformError is a Response for a failure the platform detected.
func platformError(id, typ, msg string) Response {
	return Response{
		RequestID:     id,
		FunctionError: FunctionErrorUnhandled,
		ErrorType:     typ,
		Payload:       marshalError(typ, "RequestId: "+id+" Error: "+msg),
	}
}

// TimedOut is Lambda's answer for an invocation that ran out of time
// (timeout): a Sandbox.Timedout function error. The Invoke API gives it
// for a remote function's call that got no answer in time, as the pool
// gives it for a local function.
func TimedOut(requestID string, timeout time.Duration) Response {
	return platformError(requestID, ErrorTypeTimeout, timedOutMessage(timeout))
}

func timedOutMessage(timeout time.Duration) string {
	return "Task timed out after " + seconds(timeout)
}

// seconds formats d as Lambda's "3.00 seconds".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " seconds"
}

// errorTypeOf extracts errorType from an error JSON body, "" if none.
func errorTypeOf(body []byte) string {
	var p struct {
		ErrorType string `json:"errorType"`
	}
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	return p.ErrorType
}
