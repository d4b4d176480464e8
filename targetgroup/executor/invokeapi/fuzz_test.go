package invokeapi

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// FuzzParseFunctionName: any input either parses to a valid name or gives
// a 400; never a panic.
func FuzzParseFunctionName(f *testing.F) {
	for _, s := range []string{"f", "f:$LATEST", "arn:aws:lambda:us-east-1:123456789012:function:f:1",
		"123456789012:function:f", "arn:aws:lambda:", "::", "us-east-1:f", "arn::lambda:f"} {
		f.Add(s, "")
		f.Add(s, "$LATEST")
	}
	f.Fuzz(func(t *testing.T, s, q string) {
		ref, e := parseFunctionName(s, q)
		if e != nil {
			if e.Status != 400 {
				t.Fatalf("status %d", e.Status)
			}
			return
		}
		if !isName(ref.Name) || (ref.Qualifier != "" && !isQualifier(ref.Qualifier)) {
			t.Fatalf("invalid result %+v", ref)
		}
	})
}

// FuzzParseAuthorization must never panic and must return consistent parts.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20261127/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	f.Add("AWS4-HMAC-SHA256 ,,,=")
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := parseAuthorization(s)
		if ok && (a.AccessKeyID == "" || a.Signature == "" || len(a.SignedHeaders) == 0) {
			t.Fatalf("accepted incomplete %+v", a)
		}
	})
}

// FuzzHandle feeds raw requests to the handler: no panic (the handler's
// recovery would log it as a 500 ServiceException, which the fake invoker
// never causes), every error response is Lambda-shaped.
func FuzzHandle(f *testing.F) {
	api, err := New(Options{Invoker: newFakeInvoker("echo", "fail"), Queue: newFakeQueue()})
	if err != nil {
		f.Fatal(err)
	}
	seeds := []string{
		"POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: localhost:9001\r\nContent-Length: 2\r\n\r\n{}",
		"POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: localhost:9001\r\nX-Amz-Invocation-Type: Event\r\nContent-Length: 1\r\n\r\n1",
		"POST /2015-03-31/functions/echo%3A%24LATEST/invocations?Qualifier=1 HTTP/1.1\r\nHost: localhost:9001\r\n\r\n",
		"POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: localhost:9001\r\nX-Amz-Client-Context: e30=\r\nX-Amz-Log-Type: Tail\r\n\r\n",
		"GET /2015-03-31/functions/?MaxItems=1&Marker=a HTTP/1.1\r\nHost: localhost:9001\r\n\r\n",
		"PUT /2019-09-25/functions/echo/event-invoke-config HTTP/1.1\r\nHost: localhost:9001\r\nContent-Length: 28\r\n\r\n{\"MaximumRetryAttempts\":1}  ",
		"POST /2015-03-31/functions/echo/policy HTTP/1.1\r\nHost: localhost:9001\r\nContent-Length: 2\r\n\r\n{}",
		"DELETE /2015-03-31/functions/echo/policy/x HTTP/1.1\r\nHost: localhost:9001\r\n\r\n",
		"GET /../../x HTTP/1.1\r\nHost: localhost:9001\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ctx fasthttp.RequestCtx
		if err := ctx.Request.Read(bufio.NewReader(bytes.NewReader(raw))); err != nil {
			return
		}
		api.Handle(&ctx)
		status := ctx.Response.StatusCode()
		if status >= 400 {
			et := string(ctx.Response.Header.Peek(headerErrorType))
			if et == "" || !bytes.HasPrefix(ctx.Response.Body(), []byte(`{"Type":"`)) {
				t.Fatalf("%d without Lambda error shape: %q %q", status, et, ctx.Response.Body())
			}
			if status >= 500 && !strings.Contains(string(ctx.Response.Body()), "without") {
				// Only the documented "no queue/policy store" 500s may appear.
				t.Fatalf("unexpected 5xx: %s", ctx.Response.Body())
			}
		}
	})
}
