package balancer

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/internal/intake"
	"github.com/albedo-lb/albedo/lambdaadapter"
	"github.com/albedo-lb/albedo/targetgroup"
)

// flushLog writes out what the access log buffered.
func flushLog(b *Balancer) {
	b.alog.Load().mu.Lock()
	b.alog.Load().w.Flush()
	b.alog.Load().mu.Unlock()
}

// TestBodyBudgetRefuses: a forward whose body would exceed the body
// budget gets 503, logged with its reason and counted, while the body
// that holds the budget is served once complete.
func TestBodyBudgetRefuses(t *testing.T) {
	fs, groups := fakes("g")
	budget := intake.NewBudget(16 << 10)
	var alog syncBuffer
	b, _ := start(t, listenerConfig(forwardTo("g")), groups, Options{AccessLog: &alog, BodyBudget: budget})
	addr := b.Addrs()[0].String()

	holder, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	fmt.Fprintf(holder, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%s", 16<<10, bytes.Repeat([]byte("a"), 10<<10))
	deadline := time.Now().Add(5 * time.Second)
	for budget.Stats().InUse < 16<<10 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}

	out := rawExchange(t, addr, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi")
	if !bytes.HasPrefix(out, []byte("HTTP/1.1 503 ")) || !bytes.HasSuffix(out, page(503)) {
		t.Errorf("refused body: got %q, want 503 with ALB's page", out)
	}
	if s := budget.Stats(); s.Refused != 1 {
		t.Errorf("refused %d, want 1", s.Refused)
	}
	holder.Write(bytes.Repeat([]byte("a"), 6<<10))
	var resp fasthttp.Response
	holder.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := resp.Read(bufio.NewReader(holder)); err != nil || resp.StatusCode() != 200 || len(fs["g"].lastReceived().body) != 16<<10 {
		t.Fatalf("holder: %v status %d, forwarded %d bytes", err, resp.StatusCode(), len(fs["g"].lastReceived().body))
	}
	flushLog(b)
	if !strings.Contains(alog.String(), ` 503 - `) || !strings.Contains(alog.String(), `"`+ReasonBodyBudgetExceeded+`"`) {
		t.Errorf("access log has no 503 %s line:\n%s", ReasonBodyBudgetExceeded, alog.String())
	}
	if n := fs["g"].calls.Load(); n != 1 {
		t.Errorf("function invoked %d times, want 1", n)
	}
}

// TestClientHangUp: a client that closes while its request is at the
// function is logged 460 with the function's status; the invocation still
// runs to its end.
func TestClientHangUp(t *testing.T) {
	fs, groups := fakes("g")
	f := fs["g"]
	f.started = make(chan struct{}, 1)
	f.release = make(chan struct{})
	var alog syncBuffer
	b, _ := start(t, listenerConfig(forwardTo("g")), groups, Options{AccessLog: &alog})
	c, err := net.Dial("tcp", b.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
	<-f.started
	c.Close()
	time.Sleep(50 * time.Millisecond) // let the FIN arrive
	close(f.release)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(alog.String(), "GET") && time.Now().Before(deadline) {
		flushLog(b)
		time.Sleep(10 * time.Millisecond)
	}
	fields := splitLogFields(strings.TrimSpace(alog.String()))
	if len(fields) != 30 || fields[8] != "460" || fields[9] != "200" || fields[11] != "0" {
		t.Errorf("access log %q: want elb_status_code 460, target_status_code 200, sent_bytes 0", alog.String())
	}

	// A client that stays gets its 200, logged 200.
	alog.mu.Lock()
	alog.b.Reset()
	alog.mu.Unlock()
	f.started, f.release = nil, nil
	if resp := do(t, "GET", "http://"+b.Addrs()[0].String()+"/y", nil); resp.StatusCode() != 200 {
		t.Fatalf("status %d", resp.StatusCode())
	}
	flushLog(b)
	if fields := splitLogFields(strings.TrimSpace(alog.String())); len(fields) != 30 || fields[8] != "200" {
		t.Errorf("access log %q: want elb_status_code 200", alog.String())
	}
}

// TestForwardFailureLogged: every failed forward logs one line at Warn
// (Error for albedo's own failures) naming the rule, group, function,
// ALB error reason and, for a function error, its errorType and
// errorMessage.
func TestForwardFailureLogged(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		body  string
		level string
		want  []string
	}{
		{name: "function error", err: &targetgroup.FunctionError{Function: "fn", Type: "KeyError", Message: "no such key 'id'"},
			level: "WARN", want: []string{"status=502", "error_reason=LambdaUnhandled", "error_type=KeyError", `error_message="no such key 'id'"`}},
		{name: "timeout", err: &targetgroup.FunctionError{Function: "fn", Type: "Sandbox.Timedout", Message: "Task timed out after 1.00 seconds"},
			level: "WARN", want: []string{"error_reason=LambdaUnhandled", "error_type=Sandbox.Timedout", `error_message="Task timed out after 1.00 seconds"`}},
		{name: "invalid response", err: &lambdaadapter.ResponseError{Reason: lambdaadapter.ReasonInvalidResponse, Detail: "statusCode missing"},
			level: "WARN", want: []string{"error_reason=LambdaInvalidResponse", `err="lambdaadapter: LambdaInvalidResponse: statusCode missing"`}},
		{name: "throttled", err: fmt.Errorf("forward to g: %w", targetgroup.ErrThrottled),
			level: "WARN", want: []string{"error_reason=LambdaThrottling"}},
		{name: "internal", err: context.Canceled,
			level: "ERROR", want: []string{"error_reason=LambdaUnhandledException"}},
		{name: "body over 1 MB", body: strings.Repeat("b", lambdaadapter.MaxRequestBodySize+1),
			level: "WARN", want: []string{"status=413", "error_reason=LambdaRequestTooLarge"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, _ := fakes("g")
			groups := map[string]Forwarder{"g": namedForwarder{fs["g"], "fn"}}
			fs["g"].err = tt.err
			var logs syncBuffer
			_, base := start(t, listenerConfig(forwardTo("g"), config.Rule{Priority: 7, Conditions: []config.Condition{{PathPattern: []string{"/x"}}}, Action: forwardTo("g")}), groups,
				Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			do(t, "POST", base+"/x", func(r *fasthttp.Request) { r.SetBodyString(tt.body) })
			var lines []string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "forward failed") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 {
				t.Fatalf("%d forward-failed lines, want 1:\n%s", len(lines), logs.String())
			}
			want := append([]string{"level=" + tt.level, "component=balancer", "listener=0", "rule=7", "target_group=g", "function=fn"}, tt.want...)
			for _, w := range want {
				if !strings.Contains(lines[0], w) {
					t.Errorf("line %q lacks %s", lines[0], w)
				}
			}
		})
	}
}

// namedForwarder is a Forwarder that knows its function, as
// targetgroup.Group does.
type namedForwarder struct {
	*fakeForwarder
	function string
}

func (n namedForwarder) Function() string { return n.function }

// TestBareLFAnsweredAtOnce: a request whose header block ends with a bare
// LF is answered 400 at once, not after the 60 s read timeout.
func TestBareLFAnsweredAtOnce(t *testing.T) {
	_, groups := fakes("g")
	var alog syncBuffer
	b, _ := start(t, listenerConfig(forwardTo("g")), groups, Options{AccessLog: &alog})
	begin := time.Now()
	out := rawExchange(t, b.Addrs()[0].String(), "GET / HTTP/1.1\nHost: h\n\n")
	if !bytes.HasPrefix(out, []byte("HTTP/1.1 400 ")) || !bytes.HasSuffix(out, page(400)) {
		t.Errorf("got %q, want 400 with ALB's page", out)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("answered after %s", d)
	}
}
