package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// callError turns a failed call (op: Invoke, GetPolicy) into the error the caller branches on,
// wrapping the SDK's error (which carries the status, the exception and
// the service's request id) for the log:
//
//	the caller's ctx ended         its ctx.Err()
//	Timeout passed                 context.DeadlineExceeded
//	429 TooManyRequestsException   *executor.ThrottleError (executor.ErrThrottled)
//	404 ResourceNotFoundException  executor.ErrFunctionNotFound
//	403 (signature, permissions)   executor.ErrAccessDenied
//	no credentials to sign with    executor.ErrAccessDenied
//	413 RequestTooLargeException   executor.ErrPayloadTooLarge
//	any other status (5xx, 4xx)    executor.ErrService
//	no HTTP answer                 executor.ErrConnection
func (c *Client) callError(op string, parent, ictx context.Context, err error) error {
	op = "remote: " + op + " " + c.fn.Name + " (" + c.fn.Target + ")"
	switch {
	case parent.Err() != nil:
		return fmt.Errorf("%s: %w", op, parent.Err())
	case errors.Is(ictx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s: no answer before the deadline: %w", op, context.DeadlineExceeded)
	}
	if errors.Is(err, errNoCredentials) {
		// albedo cannot sign: as denied as an unsigned call would be.
		return fmt.Errorf("%s: %w: %w", op, executor.ErrAccessDenied, err)
	}
	var re *smithyhttp.ResponseError
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) || !errors.As(err, &re) || re.Response == nil || re.Response.Response == nil || re.HTTPStatusCode() == 0 {
		return fmt.Errorf("%s: %w: %w", op, executor.ErrConnection, err)
	}
	var sentinel error
	switch status := re.HTTPStatusCode(); {
	case status == http.StatusTooManyRequests:
		te := &executor.ThrottleError{Function: c.fn.Name, Reason: executor.ReasonConcurrent}
		var tm *types.TooManyRequestsException
		if errors.As(err, &tm) && tm.Reason != "" {
			te.Reason = string(tm.Reason)
		}
		sentinel = te
	case status == http.StatusNotFound:
		sentinel = executor.ErrFunctionNotFound
	case status == http.StatusForbidden:
		sentinel = executor.ErrAccessDenied
	case status == http.StatusRequestEntityTooLarge:
		sentinel = executor.ErrPayloadTooLarge
	default:
		sentinel = executor.ErrService
	}
	return fmt.Errorf("%s: %w: %w", op, sentinel, err)
}

// platformErrorType is the errorType of a function error payload when it
// is one the Lambda platform itself reports (Sandbox.Timedout,
// Runtime.ExitError, Function.ResponseSizeTooLarge…), as the executor
// reports them in Response.ErrorType; "" for a function's own error.
func platformErrorType(payload []byte) string {
	var p struct {
		ErrorType string `json:"errorType"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return ""
	}
	switch {
	case p.ErrorType == executor.ErrorTypeTimeout,
		p.ErrorType == executor.ErrorTypeResponseTooLarge,
		strings.HasPrefix(p.ErrorType, "Runtime."):
		return p.ErrorType
	}
	return ""
}
