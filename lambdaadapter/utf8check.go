package lambdaadapter

import (
	"unicode/utf8"

	"github.com/valyala/fasthttp"
)

// ReasonBadRequest is the access-log error_reason of a request the ALB
// refuses to turn into an event because it is not UTF-8 ("client request
// headers or body did not contain only UTF-8 characters": "Error reason
// codes", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#error-reason-codes).
const ReasonBadRequest = "LambdaBadRequest"

// ValidUTF8 reports whether req can become an event without repair: its
// request target, its header names and values, and its body when the body
// is sent as text (not base64, see AppendEvent) are valid UTF-8. The ALB
// fails other requests with LambdaBadRequest instead of invoking the
// function; that the request target counts too is UNCONFIRMED. It
// retains nothing of req.
func ValidUTF8(req *fasthttp.Request) bool {
	if !utf8.Valid(req.Header.RequestURI()) {
		return false
	}
	if raw := req.Header.RawHeaders(); len(raw) > 0 {
		if !utf8.Valid(raw) {
			return false
		}
	} else { // a request built in code
		for k, v := range req.Header.All() {
			if !utf8.Valid(k) || !utf8.Valid(v) {
				return false
			}
		}
	}
	body := req.Body()
	if len(body) == 0 || utf8.Valid(body) {
		return true
	}
	// Invalid only matters when the body would be sent as text: decide it
	// exactly as AppendEvent does.
	st := acquireState()
	st.collectHeaders(req)
	text := !st.hasCE && isTextType(st.ctype)
	releaseState(st)
	return !text
}
