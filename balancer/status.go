package balancer

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/internal/intake"
	"github.com/albedo-lb/albedo/lambdaadapter"
	"github.com/albedo-lb/albedo/targetgroup"
)

// error_reason values (ALB access log, "Error reason codes":
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#error-reason-codes)
// for failures the balancer itself detects; the others come from statusFor.
const (
	ReasonAccessDenied          = "LambdaAccessDenied"
	ReasonResourceNotFound      = "LambdaResourceNotFound"
	ReasonThrottling            = "LambdaThrottling"
	ReasonUnhandled             = "LambdaUnhandled"
	ReasonConnectionTimeout     = "LambdaConnectionTimeout"
	ReasonConnectionError       = "LambdaConnectionError"
	ReasonServiceException      = "LambdaServiceException"
	ReasonUnhandledException    = "LambdaUnhandledException"
	ReasonRequestTooLarge       = "LambdaRequestTooLarge"
	ReasonWebsocketNotSupported = "LambdaWebsocketNotSupported"
	ReasonBadRequest            = lambdaadapter.ReasonBadRequest
	// ReasonBodyBudgetExceeded is albedo's own (ALB has no such limit):
	// the request body would take the process past body_memory_budget;
	// the client receives 503.
	ReasonBodyBudgetExceeded = "BodyMemoryBudgetExceeded"
)

// statusFor maps a Forward failure to the status the client receives and
// the access log's error_reason. It is the only place that decides a status
// for a target failure. The statuses are those of ALB's troubleshooting
// guide ("The load balancer generates an HTTP error",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#load-balancer-http-error-codes),
// the reasons those of its access-log guide ("Error reason codes",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#error-reason-codes);
// AWS documents no status for the rows marked UNCONFIRMED:
//
//	targetgroup.ErrNoTargets                 503  -
//	targetgroup.ErrAccessDenied              502  LambdaAccessDenied
//	targetgroup.ErrInvokeDenied (remote 403) 502  LambdaAccessDenied
//	targetgroup.ErrConnection (remote)       502  LambdaConnectionError (UNCONFIRMED status)
//	targetgroup.ErrServiceException (remote) 502  LambdaServiceException (UNCONFIRMED status)
//	targetgroup.ErrFunctionNotFound          502  LambdaResourceNotFound
//	targetgroup.ErrThrottled                 502  LambdaThrottling
//	*targetgroup.FunctionError               502  LambdaUnhandled
//	*lambdaadapter.ResponseError             502  its Reason
//	targetgroup.ErrRequestTooLarge           413  LambdaRequestTooLarge (UNCONFIRMED)
//	context.DeadlineExceeded                 504  LambdaConnectionTimeout (UNCONFIRMED)
//	anything else                            502  LambdaUnhandledException
//
// A function that runs past its own timeout is a *targetgroup.FunctionError
// (Sandbox.Timedout) and so 502 LambdaUnhandled; DeadlineExceeded only
// arrives when the balancer's own context gave up first.
func statusFor(err error) (status int, reason string) {
	var fe *targetgroup.FunctionError
	var re *lambdaadapter.ResponseError
	switch {
	case errors.Is(err, targetgroup.ErrNoTargets):
		return fasthttp.StatusServiceUnavailable, ""
	case errors.Is(err, targetgroup.ErrAccessDenied), errors.Is(err, targetgroup.ErrInvokeDenied):
		return fasthttp.StatusBadGateway, ReasonAccessDenied
	case errors.Is(err, targetgroup.ErrConnection):
		return fasthttp.StatusBadGateway, ReasonConnectionError
	case errors.Is(err, targetgroup.ErrServiceException):
		return fasthttp.StatusBadGateway, ReasonServiceException
	case errors.Is(err, targetgroup.ErrFunctionNotFound):
		return fasthttp.StatusBadGateway, ReasonResourceNotFound
	case errors.Is(err, targetgroup.ErrThrottled):
		return fasthttp.StatusBadGateway, ReasonThrottling
	case errors.Is(err, targetgroup.ErrRequestTooLarge):
		return fasthttp.StatusRequestEntityTooLarge, ReasonRequestTooLarge
	case errors.As(err, &fe):
		return fasthttp.StatusBadGateway, ReasonUnhandled
	case errors.As(err, &re):
		return fasthttp.StatusBadGateway, re.Reason
	case errors.Is(err, context.DeadlineExceeded):
		return fasthttp.StatusGatewayTimeout, ReasonConnectionTimeout
	default:
		return fasthttp.StatusBadGateway, ReasonUnhandledException
	}
}

// statusForReadError maps an error met while reading a request (by
// fasthttp, Server.ErrorHandler, or by the handler reading the body) to
// the client status: 413 for a body over the limit, 501 for a
// Transfer-Encoding other than chunked or identity (also for any
// Transfer-Encoding on HTTP/1.0, which fasthttp reports the same way), 408
// for a client too slow to send, 400 otherwise: a header block ending with
// a bare LF (intake.ErrBareLF, answered at once), a client gone before the
// end of its body, headers over 64 KB (as ALB answers). The server runs
// with SecureErrorLogMessage so that fasthttp returns its sentinels
// unwrapped by request contents.
func statusForReadError(err error) (status int, reason string) {
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge), errors.Is(err, intake.ErrTooLarge):
		return fasthttp.StatusRequestEntityTooLarge, ReasonRequestTooLarge
	case errors.Is(err, fasthttp.ErrUnsupportedTransferEncoding):
		return fasthttp.StatusNotImplemented, ""
	case errors.Is(err, intake.ErrBareLF):
		return fasthttp.StatusBadRequest, ""
	case errors.As(err, &ne) && ne.Timeout():
		return fasthttp.StatusRequestTimeout, ""
	default:
		return fasthttp.StatusBadRequest, ""
	}
}

// errorPages holds the pre-rendered bodies of the statuses albedo itself
// generates; others are rendered on demand.
var errorPages = func() map[int][]byte {
	m := make(map[int][]byte)
	for _, s := range []int{301, 302, 400, 405, 408, 413, 414, StatusTooManyForwardedFor, 500, 501, 502, 503, 504, 505} {
		m[s] = renderPage(s)
	}
	return m
}()

// renderPage renders an ALB-style page (nginx layout, CRLF line ends):
//
//	<html>
//	<head><title>502 Bad Gateway</title></head>
//	<body>
//	<center><h1>502 Bad Gateway</h1></center>
//	</body>
//	</html>
//
// ALB's own codes (463) have no standard text; their title is the number.
func renderPage(status int) []byte {
	title := strconv.Itoa(status)
	if text := fasthttp.StatusMessage(status); text != "Unknown Status Code" {
		title += " " + text
	}
	return []byte("<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" +
		title + "</h1></center>\r\n</body>\r\n</html>\r\n")
}

func page(status int) []byte {
	if p, ok := errorPages[status]; ok {
		return p
	}
	return renderPage(status)
}

// writeError replaces whatever resp holds with albedo's page for status.
func writeError(resp *fasthttp.Response, status int) {
	resp.Reset()
	resp.SetStatusCode(status)
	resp.Header.SetContentType("text/html")
	resp.Header.SetServer(serverName)
	resp.SetBodyRaw(page(status))
}

// ALB's fixed request limits (ALB quotas, "HTTP headers":
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html):
// the request line and each header line (name, colon, value) may be 16 K
// each; the whole header block (64 K) is Server.ReadBufferSize.
const (
	MaxRequestLineSize = 16 << 10
	MaxHeaderLineSize  = 16 << 10
)

// protocolStatus checks what fasthttp accepts but ALB refuses: an HTTP
// major version other than 1 (505; HTTP/1.x with x > 1 is served as 1.1,
// RFC 9110 §2.5), a request line over MaxRequestLineSize (414) and a
// header line over MaxHeaderLineSize (400). 0 means the request passes.
func protocolStatus(h *fasthttp.RequestHeader) int {
	proto := h.Protocol()
	if len(proto) < len("HTTP/1.") || string(proto[:len("HTTP/1.")]) != "HTTP/1." {
		return fasthttp.StatusHTTPVersionNotSupported
	}
	if len(h.Method())+1+len(h.RequestURI())+1+len(proto) > MaxRequestLineSize {
		return fasthttp.StatusRequestURITooLong
	}
	raw := h.RawHeaders()
	if len(raw) <= MaxHeaderLineSize {
		return 0
	}
	for len(raw) > 0 {
		n := bytes.IndexByte(raw, '\n')
		if n < 0 {
			n = len(raw)
		}
		line := raw[:n]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if len(line) > MaxHeaderLineSize {
			return fasthttp.StatusBadRequest
		}
		raw = raw[min(n+1, len(raw)):]
	}
	return 0
}

// StatusTooManyForwardedFor is ALB's answer to a request whose
// X-Forwarded-For holds more than MaxForwardedFor addresses.
const StatusTooManyForwardedFor = 463

// MaxForwardedFor is the most addresses ALB accepts in an incoming
// X-Forwarded-For (ALB troubleshooting, "HTTP 463":
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-463-issues).
const MaxForwardedFor = 30

// tooManyForwardedFor counts the addresses of every X-Forwarded-For
// occurrence (comma-separated) and reports more than MaxForwardedFor.
func tooManyForwardedFor(h *fasthttp.RequestHeader) bool {
	n := 0
	for _, v := range h.PeekAll("X-Forwarded-For") {
		if len(v) == 0 {
			continue
		}
		n++
		for _, c := range v {
			if c == ',' {
				n++
			}
		}
	}
	return n > MaxForwardedFor
}

// serverName is the Server header of every response.
const serverName = "albedo"
