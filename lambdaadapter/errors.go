package lambdaadapter

import "errors"

// Error reasons, as written to the ALB access log's error_reason field.
const (
	// ReasonInvalidResponse: the function's answer is malformed or misses
	// required fields; the client receives 502.
	ReasonInvalidResponse = "LambdaInvalidResponse"
	// ReasonResponseTooLarge: the function's answer is over MaxResponseSize;
	// the client receives 502.
	ReasonResponseTooLarge = "LambdaResponseTooLarge"
)

var (
	// ErrInvalidResponse is the sentinel behind every ResponseError with
	// Reason ReasonInvalidResponse.
	ErrInvalidResponse = errors.New("lambdaadapter: invalid response")
	// ErrResponseTooLarge is the sentinel behind every ResponseError with
	// Reason ReasonResponseTooLarge.
	ErrResponseTooLarge = errors.New("lambdaadapter: response too large")
)

// ResponseError says why the ALB would answer 502 to a function response.
type ResponseError struct {
	Reason string // ReasonInvalidResponse or ReasonResponseTooLarge
	Detail string // human explanation for logs
}

// Error implements error.
func (e *ResponseError) Error() string {
	return "lambdaadapter: " + e.Reason + ": " + e.Detail
}

// Unwrap returns the sentinel matching Reason, so errors.Is works with
// ErrInvalidResponse and ErrResponseTooLarge.
func (e *ResponseError) Unwrap() error {
	if e.Reason == ReasonResponseTooLarge {
		return ErrResponseTooLarge
	}
	return ErrInvalidResponse
}

func invalid(detail string) *ResponseError {
	return &ResponseError{Reason: ReasonInvalidResponse, Detail: detail}
}
