package balancer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/lambdaadapter"
	"github.com/albedo-lb/albedo/targetgroup"
)

func TestStatusFor(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantReason string
	}{
		{name: "access denied", err: fmt.Errorf("forward tg: %w", targetgroup.ErrAccessDenied), wantStatus: 502, wantReason: "LambdaAccessDenied"},
		{name: "function not found", err: fmt.Errorf("invoke: %w", targetgroup.ErrFunctionNotFound), wantStatus: 502, wantReason: "LambdaResourceNotFound"},
		{name: "throttled", err: fmt.Errorf("invoke: %w", targetgroup.ErrThrottled), wantStatus: 502, wantReason: "LambdaThrottling"},
		{name: "no targets", err: targetgroup.ErrNoTargets, wantStatus: 503, wantReason: ""},
		{name: "function error", err: fmt.Errorf("x: %w", &targetgroup.FunctionError{Function: "f", Type: "Sandbox.Timedout"}), wantStatus: 502, wantReason: "LambdaUnhandled"},
		{name: "invalid response", err: fmt.Errorf("decode: %w", &lambdaadapter.ResponseError{Reason: lambdaadapter.ReasonInvalidResponse}), wantStatus: 502, wantReason: "LambdaInvalidResponse"},
		{name: "response too large", err: &lambdaadapter.ResponseError{Reason: lambdaadapter.ReasonResponseTooLarge}, wantStatus: 502, wantReason: "LambdaResponseTooLarge"},
		{name: "deadline", err: fmt.Errorf("invoke: %w", context.DeadlineExceeded), wantStatus: 504, wantReason: "LambdaConnectionTimeout"},
		// A body within 1 MB whose event still exceeds Lambda's 6 MB
		// invoke limit (1 MB of control bytes in a text body, each
		// escaped as \u00XX): the client's request is too large, not an
		// internal failure.
		{name: "event over the invoke limit", err: fmt.Errorf("forward tg: invoke f: %w", targetgroup.ErrRequestTooLarge), wantStatus: 413, wantReason: "LambdaRequestTooLarge"},
		{name: "anything else", err: errors.New("boom"), wantStatus: 502, wantReason: "LambdaUnhandledException"},
		// Remote functions (package remote).
		{name: "remote 403", err: fmt.Errorf("forward tg: remote: Invoke f: %w: sdk", targetgroup.ErrInvokeDenied), wantStatus: 502, wantReason: "LambdaAccessDenied"},
		{name: "remote connection", err: fmt.Errorf("forward tg: remote: Invoke f: %w: dial", targetgroup.ErrConnection), wantStatus: 502, wantReason: "LambdaConnectionError"},
		{name: "remote 5xx", err: fmt.Errorf("forward tg: remote: Invoke f: %w: 500", targetgroup.ErrServiceException), wantStatus: 502, wantReason: "LambdaServiceException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, r := statusFor(tt.err)
			if s != tt.wantStatus || r != tt.wantReason {
				t.Errorf("statusFor(%v) = %d %q, want %d %q", tt.err, s, r, tt.wantStatus, tt.wantReason)
			}
		})
	}
}

// TestFailureStatuses checks every ALB-generated status end to end: the
// status, the HTML page, Content-Type and Server.
func TestFailureStatuses(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		panicV     any
		method     string
		prep       func(*fasthttp.Request)
		wantStatus int
		wantCalls  int64
	}{
		{name: "access denied", err: targetgroup.ErrAccessDenied, wantStatus: 502, wantCalls: 1},
		{name: "function not found", err: targetgroup.ErrFunctionNotFound, wantStatus: 502, wantCalls: 1},
		{name: "throttled", err: targetgroup.ErrThrottled, wantStatus: 502, wantCalls: 1},
		{name: "function error", err: &targetgroup.FunctionError{Function: "f", Type: "Runtime.ExitError"}, wantStatus: 502, wantCalls: 1},
		{name: "invalid response", err: &lambdaadapter.ResponseError{Reason: lambdaadapter.ReasonInvalidResponse}, wantStatus: 502, wantCalls: 1},
		{name: "response too large", err: &lambdaadapter.ResponseError{Reason: lambdaadapter.ReasonResponseTooLarge}, wantStatus: 502, wantCalls: 1},
		{name: "no targets", err: targetgroup.ErrNoTargets, wantStatus: 503, wantCalls: 1},
		{name: "deadline", err: context.DeadlineExceeded, wantStatus: 504, wantCalls: 1},
		{name: "unknown error", err: errors.New("boom"), wantStatus: 502, wantCalls: 1},
		{name: "panic", panicV: "kaboom", wantStatus: 500, wantCalls: 1},
		{name: "websocket", prep: func(r *fasthttp.Request) {
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "WebSocket")
		}, wantStatus: 400},
		{name: "trace", method: "TRACE", wantStatus: 405},
		{name: "31 forwarded-for addresses", prep: func(r *fasthttp.Request) {
			r.Header.Add("X-Forwarded-For", strings.Repeat("10.0.0.1, ", 19)+"10.0.0.1")
			r.Header.Add("X-Forwarded-For", strings.Repeat("10.0.0.2,", 10)+"10.0.0.2")
		}, wantStatus: 463},
		{name: "30 forwarded-for addresses", prep: func(r *fasthttp.Request) {
			r.Header.Set("X-Forwarded-For", strings.Repeat("10.0.0.1, ", 29)+"10.0.0.1")
		}, wantStatus: 200, wantCalls: 1},
		// Headers or a text body that are not UTF-8 fail with
		// LambdaBadRequest (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#error-reason-codes;
		// client status UNCONFIRMED, 502
		// assumed as for the other Lambda user errors) and are not
		// invoked; a body sent as base64 may hold any bytes.
		{name: "header not UTF-8", prep: header("X-Name", "caf\xe9"), wantStatus: 502},
		{name: "text body not UTF-8", method: "POST", prep: func(r *fasthttp.Request) {
			r.Header.SetContentType("text/plain; charset=latin1")
			r.SetBodyString("caf\xe9")
		}, wantStatus: 502},
		{name: "binary body not UTF-8", method: "POST", prep: func(r *fasthttp.Request) {
			r.Header.SetContentType("application/octet-stream")
			r.SetBodyString("caf\xe9")
		}, wantStatus: 200, wantCalls: 1},
		{name: "compressed text body not UTF-8", method: "POST", prep: func(r *fasthttp.Request) {
			r.Header.SetContentType("text/plain")
			r.Header.Set("Content-Encoding", "gzip")
			r.SetBodyString("\x1f\x8b\x08\xff")
		}, wantStatus: 200, wantCalls: 1},
		{name: "UTF-8 header and body", method: "POST", prep: func(r *fasthttp.Request) {
			r.Header.Set("X-Name", "lambda-λ")
			r.Header.SetContentType("application/json")
			r.SetBodyString(`{"unicode":"lambda-λ"}`)
		}, wantStatus: 200, wantCalls: 1},
		{name: "body over 1 MB", method: "POST", prep: func(r *fasthttp.Request) {
			r.SetBody(bytes.Repeat([]byte("x"), lambdaadapter.MaxRequestBodySize+1))
		}, wantStatus: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, groups := fakes("g")
			f := fs["g"]
			f.err, f.panicV = tt.err, tt.panicV
			_, base := start(t, listenerConfig(forwardTo("g")), groups, Options{})
			method := tt.method
			if method == "" {
				method = "GET"
			}
			resp := do(t, method, base+"/x", tt.prep)
			if resp.StatusCode() != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode(), tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				if got, want := string(resp.Body()), string(page(tt.wantStatus)); got != want {
					t.Errorf("body = %q, want %q", got, want)
				}
				if ct := string(resp.Header.ContentType()); ct != "text/html" {
					t.Errorf("Content-Type = %q", ct)
				}
			}
			if s := string(resp.Header.Server()); s != serverName {
				t.Errorf("Server = %q", s)
			}
			if n := f.calls.Load(); n != tt.wantCalls {
				t.Errorf("function invoked %d times, want %d", n, tt.wantCalls)
			}
		})
	}
}

// TestBodyFarOverLimit: a Content-Length over the limit is refused from
// the head, before the body is read (the client sends one byte of it: a
// body declared and never sent is a slow client, answered at the read
// timeout).
func TestBodyFarOverLimit(t *testing.T) {
	fs, groups := fakes("g")
	b, _ := start(t, listenerConfig(forwardTo("g")), groups, Options{})
	raw := fmt.Sprintf("POST / HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\nx", 2*lambdaadapter.MaxRequestBodySize)
	out := rawExchange(t, b.Addrs()[0].String(), raw)
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(bytes.NewReader(out))); err != nil {
		t.Fatalf("read response %q: %v", out, err)
	}
	if resp.StatusCode() != 413 || string(resp.Body()) != string(page(413)) || string(resp.Header.Server()) != serverName {
		t.Errorf("got %d %q server %q", resp.StatusCode(), resp.Body(), resp.Header.Server())
	}
	if n := fs["g"].calls.Load(); n != 0 {
		t.Errorf("function invoked %d times", n)
	}
}

// TestExpectContinueOverLimit: a client asking "Expect: 100-continue" for
// a body over the limit gets 413 instead of 100 and never sends the body.
func TestExpectContinueOverLimit(t *testing.T) {
	fs, groups := fakes("g")
	var alog syncBuffer
	b, _ := start(t, listenerConfig(forwardTo("g")), groups, Options{AccessLog: &alog})
	raw := fmt.Sprintf("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", lambdaadapter.MaxRequestBodySize+1)
	out := rawExchange(t, b.Addrs()[0].String(), raw)
	if !bytes.HasPrefix(out, []byte("HTTP/1.1 413 ")) || !bytes.Contains(out, []byte("Server: albedo\r\n")) ||
		!bytes.HasSuffix(out, page(413)) {
		t.Errorf("got %q, want a 413 from albedo with its page", out)
	}
	// The handler never runs for it; the access log still has its line.
	b.alog.Load().mu.Lock()
	b.alog.Load().w.Flush()
	b.alog.Load().mu.Unlock()
	if f := splitLogFields(alog.String()); len(f) < 25 || f[8] != "413" || f[20] != "0" || f[22] != "forward" || f[24] != ReasonRequestTooLarge {
		t.Errorf("access log = %q, want a 413 forward LambdaRequestTooLarge line for the default rule", alog.String())
	}
	if n := fs["g"].calls.Load(); n != 0 {
		t.Errorf("function invoked %d times", n)
	}
	t.Run("within limit continues", func(t *testing.T) {
		resp := do(t, "POST", "http://"+b.Addrs()[0].String()+"/", func(r *fasthttp.Request) {
			r.Header.Set("Expect", "100-continue")
			r.SetBodyString("small")
		})
		if resp.StatusCode() != 200 || string(fs["g"].lastReceived().body) != "small" {
			t.Errorf("status %d body %q", resp.StatusCode(), fs["g"].lastReceived().body)
		}
	})
}

func TestBodyAtLimitForwarded(t *testing.T) {
	fs, groups := fakes("g")
	_, base := start(t, listenerConfig(forwardTo("g")), groups, Options{})
	body := bytes.Repeat([]byte("y"), lambdaadapter.MaxRequestBodySize)
	resp := do(t, "POST", base+"/", func(r *fasthttp.Request) { r.SetBody(body) })
	if resp.StatusCode() != 200 || len(fs["g"].lastReceived().body) != len(body) {
		t.Errorf("status %d, forwarded %d bytes; want 200 and %d", resp.StatusCode(), len(fs["g"].lastReceived().body), len(body))
	}
}

func TestHeaderTooLarge(t *testing.T) {
	fs, groups := fakes("g")
	_, base := start(t, listenerConfig(forwardTo("g")), groups, Options{})
	resp := do(t, "GET", base+"/", header("X-Big", strings.Repeat("b", MaxHeaderSize)))
	if resp.StatusCode() != 400 || fs["g"].calls.Load() != 0 {
		t.Errorf("status %d calls %d; want 400 and 0", resp.StatusCode(), fs["g"].calls.Load())
	}
}

// TestForwardConn checks what the balancer hands the Forwarder.
func TestForwardConn(t *testing.T) {
	fs, groups := fakes("g")
	b, base := start(t, listenerConfig(forwardTo("g")), groups, Options{})
	resp := do(t, "POST", base+"/p%20q?a=1&a=2", func(r *fasthttp.Request) { r.SetBodyString("hello") })
	if resp.StatusCode() != 200 || string(resp.Body()) != "from g" {
		t.Fatalf("got %d %q", resp.StatusCode(), resp.Body())
	}
	if s := string(resp.Header.Server()); s != serverName {
		t.Errorf("function's Server header not replaced: %q", s)
	}
	got := fs["g"].lastReceived()
	port := b.Addrs()[0].(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	if got.method != "POST" || got.uri != "/p%20q?a=1&a=2" || string(got.body) != "hello" {
		t.Errorf("request = %s %s %q", got.method, got.uri, got.body)
	}
	c := got.conn
	if c.ClientIP != netip.MustParseAddr("127.0.0.1") || c.ClientPort == 0 || c.ListenerPort != int(port) || c.Scheme != "http" {
		t.Errorf("conn = %+v, want 127.0.0.1, a port, listener %d, http", c, port)
	}
	if c.TargetGroupARN != "" || c.MultiValue {
		t.Errorf("balancer filled group fields: %+v", c)
	}
}

func TestNewErrors(t *testing.T) {
	_, groups := fakes("g")
	tests := []struct {
		name string
		cfg  *config.Config
		want error
	}{
		{name: "nil", cfg: nil, want: ErrNoListeners},
		{name: "unknown group", cfg: listenerConfig(forwardTo("missing")), want: ErrUnknownTargetGroup},
		{name: "duplicate priority", cfg: listenerConfig(forwardTo("g"),
			config.Rule{Priority: 3, Conditions: []config.Condition{{PathPattern: []string{"/a"}}}, Action: forwardTo("g")},
			config.Rule{Priority: 3, Conditions: []config.Condition{{PathPattern: []string{"/b"}}}, Action: forwardTo("g")},
		), want: ErrInvalidRule},
		{name: "no default action", cfg: listenerConfig(nil), want: ErrInvalidAction},
		{name: "two actions", cfg: listenerConfig(&config.Action{Forward: forwardTo("g").Forward, FixedResponse: &config.FixedResponse{StatusCode: 200}}), want: ErrInvalidAction},
		{name: "bad weight", cfg: listenerConfig(weighted(nil, config.WeightedGroup{Name: "g", Weight: ptr(1000)})), want: ErrInvalidAction},
		{name: "bad condition", cfg: listenerConfig(forwardTo("g"),
			config.Rule{Priority: 1, Conditions: []config.Condition{{SourceIP: []string{"nope"}}}, Action: forwardTo("g")},
		), want: ErrInvalidCondition},
		{name: "https without certificate", cfg: &config.Config{Listeners: []config.Listener{{Port: 0, Protocol: "HTTPS", DefaultAction: forwardTo("g")}}}, want: ErrNoCertificate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, groups, Options{}); !errors.Is(err, tt.want) {
				t.Errorf("New error = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestProtocolErrorStatuses sends requests ALB refuses at the HTTP layer
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#load-balancer-http-error-codes,
// with the limits of https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html)
// and checks the status, that albedo's page answers,
// and that nothing was forwarded.
func TestProtocolErrorStatuses(t *testing.T) {
	long := strings.Repeat("a", 16<<10)
	tests := []struct {
		name       string
		raw        string
		wantStatus int
	}{
		{name: "unsupported transfer-encoding", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n", wantStatus: 501},
		{name: "transfer-encoding list", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n", wantStatus: 501},
		{name: "HTTP/2.0 request line", raw: "GET / HTTP/2.0\r\nHost: h\r\nConnection: close\r\n\r\n", wantStatus: 505},
		{name: "HTTP/0.9 request line", raw: "GET / HTTP/0.9\r\nHost: h\r\nConnection: close\r\n\r\n", wantStatus: 505},
		{name: "request line over 16 K", raw: "GET /" + long + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", wantStatus: 414},
		{name: "one header over 16 K", raw: "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + long + "\r\nConnection: close\r\n\r\n", wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, groups := fakes("g")
			b, _ := start(t, listenerConfig(forwardTo("g")), groups, Options{})
			out := rawExchange(t, b.Addrs()[0].String(), tt.raw)
			var resp fasthttp.Response
			if err := resp.Read(bufio.NewReader(bytes.NewReader(out))); err != nil {
				t.Fatalf("read response %q: %v", out, err)
			}
			if resp.StatusCode() != tt.wantStatus || string(resp.Body()) != string(page(tt.wantStatus)) {
				t.Errorf("got %d %q, want %d with albedo's page", resp.StatusCode(), resp.Body(), tt.wantStatus)
			}
			if n := fs["g"].calls.Load(); n != 0 {
				t.Errorf("function invoked %d times", n)
			}
		})
	}
	t.Run("within limits", func(t *testing.T) {
		fs, groups := fakes("g")
		_, base := start(t, listenerConfig(forwardTo("g")), groups, Options{})
		almost := strings.Repeat("a", 16<<10-len("GET / HTTP/1.1")-1)
		resp := do(t, "GET", base+"/"+almost, header("X-Big", strings.Repeat("b", 16<<10-len("X-Big: "))))
		if resp.StatusCode() != 200 || fs["g"].calls.Load() != 1 {
			t.Errorf("status %d calls %d, want 200 and 1", resp.StatusCode(), fs["g"].calls.Load())
		}
	})
}
