package targetgroup

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/lambdaadapter"
	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// fakeInvoker records the last request and answers with a canned response.
type fakeInvoker struct {
	mu    sync.Mutex
	last  executor.Request
	calls int
	resp  executor.Response
	err   error
}

func (f *fakeInvoker) Invoke(_ context.Context, req executor.Request) (executor.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last, f.calls = req, f.calls+1
	return f.resp, f.err
}

// policies is a mutable Policies for the revision tests.
type policies struct {
	mu    sync.Mutex
	stmts []config.Statement
	rev   uint64
}

func (p *policies) Statements(string) ([]config.Statement, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stmts, p.rev
}

func (p *policies) set(stmts []config.Statement) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stmts, p.rev = stmts, p.rev+1
}

const testConfig = `
listeners:
  - port: 8080
    default_action: {forward: {target_group: api}}
target_groups:
  - name: api
    targets: [api-fn]
  - name: mv
    targets: [api-fn]
    multi_value_headers: true
functions:
  - name: api-fn
    runtime: builtin
    handler: echo
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
`

func loadTestConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(testConfig), "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func testRequest(t *testing.T) *fasthttp.Request {
	t.Helper()
	var req fasthttp.Request
	raw := "GET /a%20b?x=1&x=2 HTTP/1.1\r\nHost: example.com\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n"
	if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	return &req
}

var testConn = lambdaadapter.Conn{
	ClientIP:     netip.MustParseAddr("127.0.0.1"),
	ClientPort:   40000,
	ListenerPort: 8080,
	Scheme:       "http",
}

func TestForward(t *testing.T) {
	ok := executor.Response{Payload: []byte(`{"statusCode":201,"headers":{"X-A":"b"},"body":"hi"}`)}
	tests := []struct {
		name     string
		group    string
		resp     executor.Response
		err      error
		wantErr  error
		wantFE   string // FunctionError.Type
		wantMsg  string // FunctionError.Message, when set
		wantCode int
	}{
		{name: "ok", group: "api", resp: ok, wantCode: 201},
		{name: "multi-value ok", group: "mv", resp: executor.Response{Payload: []byte(`{"statusCode":200,"multiValueHeaders":{"X":["1","2"]}}`)}, wantCode: 200},
		{name: "throttled", group: "api", err: &executor.ThrottleError{Function: "api-fn", Reason: executor.ReasonReserved}, wantErr: ErrThrottled},
		{name: "not found", group: "api", err: executor.ErrFunctionNotFound, wantErr: ErrFunctionNotFound},
		{name: "function error", group: "api", resp: executor.Response{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"boom","errorType":"errorString"}`)}, wantFE: "errorString"},
		{name: "timeout", group: "api", resp: executor.Response{FunctionError: "Unhandled", ErrorType: "Sandbox.Timedout", Payload: []byte(`{"errorMessage":"Task timed out after 3.00 seconds"}`)}, wantFE: "Sandbox.Timedout"},
		// What goes into log lines is bounded: errorType 256 bytes,
		// errorMessage 2 KB, cut at a character boundary.
		{name: "huge error", group: "api", resp: executor.Response{FunctionError: "Unhandled", Payload: []byte(`{"errorType":"` + strings.Repeat("T", 300) + `","errorMessage":"` + strings.Repeat("é", 3000) + `"}`)},
			wantFE: strings.Repeat("T", 253) + "…", wantMsg: strings.Repeat("é", 1022) + "…"},
		{name: "error payload over 1 MB", group: "api", resp: executor.Response{FunctionError: "Unhandled", Payload: []byte(`{"errorType":"Big","errorMessage":"` + strings.Repeat("x", 1<<20) + `"}`)},
			wantFE: "Unhandled", wantMsg: "(error payload of 1048613 bytes, not read)"},
		{name: "invalid response", group: "api", resp: executor.Response{Payload: []byte(`{"statusCode":"200"}`)}, wantErr: lambdaadapter.ErrInvalidResponse},
		// A response over Lambda's 6 MB limit never reaches DecodeResponse:
		// the executor fails it as Function.ResponseSizeTooLarge. For the
		// ALB that is still a response over 1 MB (LambdaResponseTooLarge),
		// not an unhandled function error.
		{name: "response over the payload limit", group: "api", resp: executor.Response{FunctionError: "Unhandled", ErrorType: executor.ErrorTypeResponseTooLarge, Payload: []byte(`{"errorMessage":"Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}`)}, wantErr: lambdaadapter.ErrResponseTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{resp: tt.resp, err: tt.err}
			cfg := loadTestConfig(t)
			groups, err := New(cfg, Options{Invoker: inv})
			if err != nil {
				t.Fatal(err)
			}
			g := groups[tt.group]
			var resp fasthttp.Response
			req := testRequest(t)
			err = g.Forward(context.Background(), req, testConn, &resp)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case tt.wantFE != "":
				var fe *FunctionError
				if !errors.As(err, &fe) || fe.Type != tt.wantFE {
					t.Fatalf("err = %.300v, want FunctionError %s", err, tt.wantFE)
				}
				if tt.wantMsg != "" && fe.Message != tt.wantMsg {
					t.Fatalf("message %.300q (%d bytes), want %.300q", fe.Message, len(fe.Message), tt.wantMsg)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode() != tt.wantCode {
					t.Fatalf("status = %d, want %d", resp.StatusCode(), tt.wantCode)
				}
			}
			// Whatever the outcome, the event the function got is an ALB
			// event of this group, in this group's mode.
			var ev events.ALBTargetGroupRequest
			if err := json.Unmarshal(inv.last.Payload, &ev); err != nil {
				t.Fatalf("event: %v\n%s", err, inv.last.Payload)
			}
			if ev.RequestContext.ELB.TargetGroupArn != g.ARN() || inv.last.Function != "api-fn" {
				t.Fatalf("event for %q from %q, want %q", inv.last.Function, ev.RequestContext.ELB.TargetGroupArn, g.ARN())
			}
			evTrace := ev.Headers["x-amzn-trace-id"]
			if ev.MultiValueHeaders != nil {
				evTrace = ev.MultiValueHeaders["x-amzn-trace-id"][0]
			}
			if !strings.HasPrefix(inv.last.TraceID, "Root=1-") || inv.last.TraceID != evTrace {
				t.Errorf("invocation trace id %q, event's x-amzn-trace-id %q", inv.last.TraceID, evTrace)
			}
			// Left in the request for the access log's trace_id.
			if got := string(req.Header.Peek("X-Amzn-Trace-Id")); got != evTrace {
				t.Errorf("request's X-Amzn-Trace-Id after Forward %q, want the event's %q", got, evTrace)
			}
			if mv := tt.group == "mv"; mv != (ev.MultiValueHeaders != nil) {
				t.Fatalf("multi-value mode %v, event %s", mv, inv.last.Payload)
			}
		})
	}
}

func TestForwardPermission(t *testing.T) {
	cfg := loadTestConfig(t)
	pol := &policies{stmts: cfg.Functions[0].Policy}
	inv := &fakeInvoker{resp: executor.Response{Payload: []byte(`{"statusCode":200}`)}}
	groups, err := New(cfg, Options{Invoker: inv, Policies: pol})
	if err != nil {
		t.Fatal(err)
	}
	g := groups["api"]
	forward := func() error {
		var resp fasthttp.Response
		return g.Forward(context.Background(), testRequest(t), testConn, &resp)
	}
	steps := []struct {
		name  string
		stmts []config.Statement
		want  error
	}{
		{name: "allowed by config", stmts: nil, want: nil},
		{name: "statement removed", stmts: []config.Statement{}, want: ErrAccessDenied},
		{name: "other group only", stmts: []config.Statement{{Sid: "x", Principal: config.ELBPrincipal, Action: "lambda:InvokeFunction", SourceARN: "arn:aws:elasticloadbalancing:*:*:targetgroup/other/*"}}, want: ErrAccessDenied},
		{name: "wrong account", stmts: []config.Statement{{Sid: "x", Principal: config.ELBPrincipal, Action: "lambda:*", SourceAccount: "999999999999"}}, want: ErrAccessDenied},
		{name: "added back", stmts: []config.Statement{{Sid: "x", Principal: config.ELBPrincipal, Action: "lambda:*", SourceARN: g.ARN()}}, want: nil},
	}
	for i, st := range steps {
		if i > 0 {
			pol.set(st.stmts)
		}
		calls := inv.calls
		err := forward()
		if !errors.Is(err, st.want) && !(st.want == nil && err == nil) {
			t.Fatalf("%s: err = %v, want %v", st.name, err, st.want)
		}
		if st.want != nil && inv.calls != calls {
			t.Fatalf("%s: function invoked although access is denied", st.name)
		}
	}
}

func TestForwardNoTargets(t *testing.T) {
	cfg := loadTestConfig(t)
	cfg.TargetGroups[0].Function = ""
	groups, err := New(cfg, Options{Invoker: &fakeInvoker{}})
	if err != nil {
		t.Fatal(err)
	}
	var resp fasthttp.Response
	if err := groups["api"].Forward(context.Background(), testRequest(t), testConn, &resp); !errors.Is(err, ErrNoTargets) {
		t.Fatalf("err = %v, want ErrNoTargets", err)
	}
}
