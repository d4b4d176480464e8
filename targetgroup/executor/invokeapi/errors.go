package invokeapi

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/valyala/fasthttp"
)

// ErrNoPolicy: GetPolicy on a function whose policy has no statements.
var ErrNoPolicy = errors.New("invokeapi: function has no policy")

// Lambda exception names sent in X-Amzn-ErrorType (the "Errors" of each
// operation's reference page, e.g.
// https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors and
// https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html#API_AddPermission_Errors, and
// https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html).
const (
	excResourceNotFound       = "ResourceNotFoundException"
	excInvalidRequestContent  = "InvalidRequestContentException"
	excInvalidParameterValue  = "InvalidParameterValueException"
	excRequestTooLarge        = "RequestTooLargeException"
	excUnsupportedMediaType   = "UnsupportedMediaTypeException"
	excTooManyRequests        = "TooManyRequestsException"
	excService                = "ServiceException"
	excAccessDenied           = "AccessDeniedException"
	excResourceConflict       = "ResourceConflictException"
	excPreconditionFailed     = "PreconditionFailedException"
	excPolicyLengthExceeded   = "PolicyLengthExceededException"
	excValidation             = "ValidationException"
	excUnknownOperation       = "UnknownOperationException"
	typeUser, typeService     = "User", "Service"
	headerErrorType           = "X-Amzn-ErrorType"
	headerRequestID           = "X-Amzn-RequestId"
	contentTypeJSON           = "application/json"
	maxStatementIDLen         = 100
	maxQualifierLen           = 128
	maxFunctionNameInputLen   = 170
	maxClientContextLen       = 3583
	defaultListFunctionsItems = 50
	maxListFunctionsItems     = 10000
)

// apiError is an invocation or control-plane error as Lambda sends it: a
// status, an exception name and a message.
type apiError struct {
	Status  int
	Code    string // exception name, X-Amzn-ErrorType
	Message string
	Reason  string // TooManyRequestsException only
}

// reasonCallerRateLimit is the TooManyRequestsException Reason of a body
// refused by the body budget.
const reasonCallerRateLimit = "CallerRateLimitExceeded"

func (e *apiError) Error() string {
	return "invokeapi: " + strconv.Itoa(e.Status) + " " + e.Code + ": " + e.Message
}

func newError(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

// messageKey returns the JSON member that carries the message. The SDK's
// shape deserializer matches member names case-sensitively and Lambda's
// model spells it "Message" for a few exceptions and "message" for the rest.
func messageKey(code string) string {
	switch code {
	case excResourceNotFound, excService:
		return "Message"
	}
	return "message"
}

// appendErrorBody appends {"Type":…,"message":…[,"Reason":…]}.
func appendErrorBody(dst []byte, e *apiError) []byte {
	typ := typeUser
	if e.Status >= 500 {
		typ = typeService
	}
	dst = append(dst, `{"Type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","`...)
	dst = append(dst, messageKey(e.Code)...)
	dst = append(dst, `":`...)
	dst = appendJSONString(dst, e.Message)
	if e.Reason != "" {
		dst = append(dst, `,"Reason":`...)
		dst = appendJSONString(dst, e.Reason)
	}
	return append(dst, '}')
}

func appendJSONString(dst []byte, s string) []byte {
	b, err := json.Marshal(s)
	if err != nil { // cannot happen for a string
		return append(dst, `""`...)
	}
	return append(dst, b...)
}

// writeError renders e as Lambda does: status, X-Amzn-ErrorType and the
// JSON body.
func writeError(ctx *fasthttp.RequestCtx, e *apiError, requestID string) {
	ctx.Response.Reset() // drop anything a failed handler had set
	ctx.SetStatusCode(e.Status)
	ctx.Response.Header.Set(headerErrorType, e.Code)
	ctx.Response.Header.Set(headerRequestID, requestID)
	ctx.SetContentType(contentTypeJSON)
	ctx.Response.SetBodyRaw(appendErrorBody(nil, e))
}

func errNotFound(msg string) *apiError {
	return newError(fasthttp.StatusNotFound, excResourceNotFound, msg)
}

func errValidation(msg string) *apiError {
	return newError(fasthttp.StatusBadRequest, excValidation, "1 validation error detected: "+msg)
}

func errInvalidParameter(msg string) *apiError {
	return newError(fasthttp.StatusBadRequest, excInvalidParameterValue, msg)
}

func errService(msg string) *apiError {
	return newError(fasthttp.StatusInternalServerError, excService, msg)
}
