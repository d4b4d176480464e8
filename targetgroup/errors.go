package targetgroup

import (
	"errors"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// Sentinel errors returned (wrapped) by Group.Forward. The balancer maps
// them to the client status in one place (balancer/status.go).
var (
	// ErrAccessDenied: the function's resource-based policy does not allow
	// elasticloadbalancing.amazonaws.com from this group's ARN
	// (error_reason LambdaAccessDenied).
	ErrAccessDenied = errors.New("targetgroup: elasticloadbalancing principal does not have permission to invoke the function")
	// ErrNoTargets: the group has no registered target (ALB answers 503).
	ErrNoTargets = errors.New("targetgroup: no registered targets")
	// ErrFunctionNotFound: the target function does not exist
	// (error_reason LambdaResourceNotFound).
	ErrFunctionNotFound = executor.ErrFunctionNotFound
	// ErrThrottled: no execution environment could be had
	// (error_reason LambdaThrottling).
	ErrThrottled = executor.ErrThrottled
	// ErrRequestTooLarge: the event is over Lambda's invoke payload limit
	// although the body is within the ALB's 1 MB (JSON escaping can grow
	// a text body up to six times); error_reason LambdaRequestTooLarge.
	ErrRequestTooLarge = executor.ErrPayloadTooLarge
	// ErrInvokeDenied: the Lambda service of a remote function refused
	// albedo's call (403: signature, credentials, IAM); error_reason
	// LambdaAccessDenied.
	ErrInvokeDenied = executor.ErrAccessDenied
	// ErrConnection: the Lambda service of a remote function could not
	// be reached (error_reason LambdaConnectionError).
	ErrConnection = executor.ErrConnection
	// ErrServiceException: the Lambda service of a remote function
	// answered with an error of its own, such as a 5xx (error_reason
	// LambdaServiceException).
	ErrServiceException = executor.ErrService
)

// FunctionError reports that the invocation reached the function and the
// function (or its runtime) failed it: an unhandled error, a timeout, a
// crash, an init failure or running out of memory (error_reason
// LambdaUnhandled).
type FunctionError struct {
	Function string
	// Type is the errorType: the function's own, or a platform one such as
	// "Sandbox.Timedout" or "Runtime.ExitError"; at most 256 bytes.
	Type string
	// Message is the errorMessage, for logs; at most 2 KB (longer ones
	// are cut, ending in "…"; an error payload over 1 MB is not parsed).
	Message string
}

func (e *FunctionError) Error() string {
	return "targetgroup: function " + e.Function + " failed: " + e.Type + ": " + e.Message
}
