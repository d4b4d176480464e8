package invokeapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/internal/intake"
)

func withBudget(b *intake.Budget) envOption {
	return func(o *Options, _ *[]config.Function) { o.BodyBudget = b }
}

// rawAdmin writes head (and then body, while the answer is read) to addr
// and returns the first response, and whether "100 Continue" came first.
func rawAdmin(t *testing.T, addr, head string, body []byte) (*fasthttp.Response, bool) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = c.Write(body) }() // may fail once refused
	br := bufio.NewReader(c)
	line, err := br.Peek(len("HTTP/1.1 100"))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	continued := string(line) == "HTTP/1.1 100"
	if continued {
		_, _ = br.ReadString('\n')
		_, _ = br.ReadString('\n')
	}
	resp := &fasthttp.Response{}
	if err := resp.Read(br); err != nil {
		t.Fatalf("read response: %v", err)
	}
	return resp, continued
}

// checkLambdaError checks status, X-Amzn-ErrorType and the JSON body.
func checkLambdaError(t *testing.T, resp *fasthttp.Response, status int, code, msg string) {
	t.Helper()
	var e map[string]any
	if resp.StatusCode() != status || string(resp.Header.Peek(headerErrorType)) != code ||
		!strings.HasPrefix(string(resp.Header.ContentType()), "application/json") || json.Unmarshal(resp.Body(), &e) != nil ||
		e["Type"] != "User" || !strings.Contains(fmt.Sprint(e["message"]), msg) {
		t.Errorf("got %d %s %q, want %d %s with %q", resp.StatusCode(), resp.Header.Peek(headerErrorType), resp.Body(), status, code, msg)
	}
}

// TestInvokeTooLarge: a payload over the limit is 413
// RequestTooLargeException from its declared size: before the body is
// read, without "100 Continue", and while a client that does not wait
// (the AWS SDK never sends Expect) is still sending it.
func TestInvokeTooLarge(t *testing.T) {
	budget := intake.NewBudget(64 << 20)
	env := newTestEnv(t, withBudget(budget))
	big := bytes.Repeat([]byte("1"), 16<<20)
	const invoke = "POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: localhost\r\n"

	t.Run("sdk", func(t *testing.T) {
		_, err := env.client.Invoke(testCtx(t), &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: big})
		var tl *types.RequestTooLargeException
		if !errors.As(err, &tl) {
			t.Fatalf("err = %v, want RequestTooLargeException", err)
		}
	})
	tests := []struct {
		name, head string
		body       []byte
		msg        string
	}{
		{"16 MB", invoke + "Content-Length: 16777216\r\n\r\n", big, "smaller than 6291456 bytes for the InvokeFunction operation"},
		{"16 MB with Expect", invoke + "Expect: 100-continue\r\nContent-Length: 16777216\r\n\r\n", nil, "smaller than 6291456 bytes"},
		{"event 2 MB", invoke + "X-Amz-Invocation-Type: Event\r\nContent-Length: 2097152\r\n\r\n", big[:2<<20], "smaller than 1048576 bytes for the InvokeAsync operation"},
		{"chunked 7 MB", invoke + "Transfer-Encoding: chunked\r\n\r\n", chunk(big[:7<<20]), "smaller than 6291456 bytes"},
		{"declared 1 TB", invoke + "Content-Length: 1099511627776\r\n\r\n", []byte("{}"), "smaller than 6291456 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			begin := time.Now()
			resp, continued := rawAdmin(t, env.addr, tt.head, tt.body)
			if continued {
				t.Error(`got "100 Continue" before the refusal`)
			}
			checkLambdaError(t, resp, 413, "RequestTooLargeException", tt.msg)
			if d := time.Since(begin); d > 3*time.Second {
				t.Errorf("answered after %s", d)
			}
		})
	}
	env.inv.mu.Lock()
	n := len(env.inv.reqs)
	env.inv.mu.Unlock()
	if n != 0 {
		t.Errorf("%d invocations, want 0", n)
	}
	if s := budget.Stats(); s.InUse != 0 {
		t.Errorf("budget holds %d bytes after the requests", s.InUse)
	}
}

// chunk encodes b as one chunk and the last chunk.
func chunk(b []byte) []byte {
	return fmt.Appendf(nil, "%x\r\n%s\r\n0\r\n\r\n", len(b), b)
}

// TestAuthBeforeBody: with credentials, a request whose Authorization
// cannot be valid is refused from its head: no byte of its declared 7 MB
// body is held, and the client is not kept waiting for it.
func TestAuthBeforeBody(t *testing.T) {
	budget := intake.NewBudget(64 << 20)
	env := newTestEnv(t, withCredentials, withBudget(budget))
	now := time.Now().UTC()
	auth := func(key, region, service string) string {
		return "Authorization: AWS4-HMAC-SHA256 Credential=" + key + "/" + now.Format("20060102") + "/" + region + "/" + service +
			"/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000\r\nX-Amz-Date: " + now.Format(amzDateLayout) + "\r\n"
	}
	const head = "POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: localhost\r\nContent-Length: 7000000\r\n"
	tests := []struct {
		name, head, msg string
	}{
		{"no authorization", head, "Missing Authentication Token"},
		{"unknown key", head + auth("AKIDOTHER", testRegion, "lambda"), "security token included in the request is invalid"},
		{"service s3", head + auth(testKeyID, testRegion, "s3"), "scoped to correct service"},
		{"region eu-west-1", head + auth(testKeyID, "eu-west-1", "lambda"), "scoped to a valid region"},
		{"expect", head + "Expect: 100-continue\r\n", "Missing Authentication Token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			begin := time.Now()
			// Only 10 bytes of the body ever come.
			resp, continued := rawAdmin(t, env.addr, tt.head+"\r\n", []byte(`{"a":"b"}`))
			checkLambdaError(t, resp, 403, "AccessDeniedException", tt.msg)
			if continued {
				t.Error(`got "100 Continue" before the refusal`)
			}
			if d := time.Since(begin); d > 3*time.Second {
				t.Errorf("answered after %s", d)
			}
		})
	}
	if s := budget.Stats(); s.InUse != 0 || s.Refused != 0 {
		t.Errorf("budget %+v: bodies were read", s)
	}
}

// TestBodyBudgetAdmin: an Invoke whose body would exceed the body budget
// is 429 TooManyRequestsException (the SDKs retry it), counted.
func TestBodyBudgetAdmin(t *testing.T) {
	budget := intake.NewBudget(16 << 10)
	env := newTestEnv(t, withBudget(budget))
	holder, err := net.Dial("tcp", env.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	fmt.Fprintf(holder, "POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n\"%s", 16<<10, bytes.Repeat([]byte("a"), 10<<10))
	deadline := time.Now().Add(5 * time.Second)
	for budget.Stats().InUse < 16<<10 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	_, err = env.client.Invoke(testCtx(t), &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"x":1}`)})
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) || tm.Reason != types.ThrottleReasonCallerRateLimitExceeded {
		t.Fatalf("err = %v, want TooManyRequestsException CallerRateLimitExceeded", err)
	}
	if s := budget.Stats(); s.Refused != 1 {
		t.Errorf("refused %d, want 1", s.Refused)
	}
	// The holder's body completes and is served.
	rest := (16 << 10) - (1 + 10<<10)
	holder.Write(append(bytes.Repeat([]byte("a"), rest-1), '"'))
	var resp fasthttp.Response
	holder.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := resp.Read(bufio.NewReader(holder)); err != nil || resp.StatusCode() != 200 {
		t.Fatalf("holder: %v %d %.200s", err, resp.StatusCode(), resp.Body())
	}
}

// TestAdminBareLF: a header block ending with a bare LF is answered 400
// at once in Lambda's error shape.
func TestAdminBareLF(t *testing.T) {
	env := newTestEnv(t)
	begin := time.Now()
	resp, _ := rawAdmin(t, env.addr, "GET /2015-03-31/functions/ HTTP/1.1\nHost: localhost\n\n", nil)
	checkLambdaError(t, resp, 400, "InvalidRequestContentException", "bare LF")
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("answered after %s", d)
	}
}
