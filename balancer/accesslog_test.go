package balancer

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup"
)

// syncBuffer is an io.Writer safe for the flusher and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// splitLogFields splits an access-log line into fields, a quoted field
// being one field without its quotes.
func splitLogFields(line string) []string {
	var out []string
	for len(line) > 0 {
		if line[0] == '"' {
			end := strings.IndexByte(line[1:], '"')
			out = append(out, line[1:1+end])
			line = strings.TrimPrefix(line[2+end:], " ")
			continue
		}
		f, rest, _ := strings.Cut(line, " ")
		out = append(out, f)
		line = rest
	}
	return out
}

func TestAccessLog(t *testing.T) {
	fs, groups := fakes("ok", "bad")
	fs["bad"].err = targetgroup.ErrThrottled
	const arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/ok/0123456789abcdef"
	cfg := listenerConfig(&config.Action{FixedResponse: &config.FixedResponse{StatusCode: 404, MessageBody: "nope"}},
		config.Rule{Priority: 1, Conditions: []config.Condition{{PathPattern: []string{"/ok"}}}, Action: forwardTo("ok")},
		config.Rule{Priority: 2, Conditions: []config.Condition{{PathPattern: []string{"/bad"}}}, Action: forwardTo("bad")},
		config.Rule{Priority: 3, Conditions: []config.Condition{{PathPattern: []string{"/old"}}},
			Action: &config.Action{Redirect: &config.Redirect{Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301"}}},
	)
	cfg.LoadBalancer = "my-lb"
	cfg.TargetGroups = []config.TargetGroup{{Name: "ok", ARN: arn}}
	var out syncBuffer
	b, err := New(cfg, groups, Options{AccessLog: &out})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + b.Addrs()[0].String()
	ua := func(r *fasthttp.Request) {
		r.Header.Set("User-Agent", `curl/8 "quoted"`)
		r.Header.Set("X-Amzn-Trace-Id", "Root=1-67891233-abcdef012345678912345678")
	}
	do(t, "GET", base+"/ok?a=1", ua)
	do(t, "GET", base+"/bad", nil)
	do(t, "GET", base+"/old", nil)
	do(t, "GET", base+"/none", nil)
	do(t, "TRACE", base+"/", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want 5:\n%s", len(lines), out.String())
	}
	port := b.listeners[0].port
	// field index (0-based) → want, per line; "*" = any non-empty value.
	want := []map[int]string{
		{0: "http", 2: config.LoadBalancerName("my-lb"), 4: "-", 8: "200", 9: "200", 12: "GET http://127.0.0.1:" + strconv.Itoa(port) + "/ok?a=1 HTTP/1.1",
			13: `curl/8 \x22quoted\x22`, 14: "-", 15: "-", 16: arn, 17: "Root=1-67891233-abcdef012345678912345678", 18: "-", 19: "-", 20: "1", 22: "forward", 23: "-", 24: "-", 25: "-", 26: "-", 27: "-", 28: "-"},
		{8: "502", 9: "-", 16: "-", 20: "2", 22: "forward", 24: "LambdaThrottling"},
		{5: "-1", 6: "-1", 7: "-1", 8: "301", 9: "-", 20: "3", 22: "redirect", 23: "https://127.0.0.1:443/old"},
		{8: "404", 20: "0", 22: "fixed-response", 23: "-"},
		{8: "405", 20: "-", 22: "-"},
	}
	for i, line := range lines {
		f := splitLogFields(line)
		if len(f) != 30 {
			t.Errorf("line %d has %d fields, want 30: %s", i, len(f), line)
			continue
		}
		if !strings.HasPrefix(f[3], "127.0.0.1:") || !strings.HasPrefix(f[29], "TID_") {
			t.Errorf("line %d client %q conn_trace_id %q", i, f[3], f[29])
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000000Z", f[1]); err != nil {
			t.Errorf("line %d time %q: %v", i, f[1], err)
		}
		for idx, w := range want[i] {
			if f[idx] != w {
				t.Errorf("line %d field %d = %q, want %q\n%s", i, idx+1, f[idx], w, line)
			}
		}
	}
}

func TestAccessLogReadError(t *testing.T) {
	_, groups := fakes("g")
	var out syncBuffer
	b, err := New(listenerConfig(forwardTo("g")), groups, Options{AccessLog: &out})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	rawExchange(t, b.Addrs()[0].String(), "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999\r\n\r\nx")
	if err := b.Shutdown(context.Background()); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	f := splitLogFields(strings.TrimSpace(out.String()))
	if len(f) != 30 || f[8] != "413" || f[24] != ReasonRequestTooLarge {
		t.Errorf("fields %q", f)
	}
}

// TestAppendRequestTarget: the url field keeps an origin-form target as
// received and drops an absolute-form target's scheme and authority, as
// the event does (it was logged as http://host:port + http://other/...).
func TestAppendRequestTarget(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/echo?q=1", "/echo?q=1"},
		{"/a%20b?x=%41&y", "/a%20b?x=%41&y"},
		{"http://other.example/echo?q=1", "/echo?q=1"},
		{"http://other.example", "/"},
		{"https://other.example:8443/p", "/p"},
		{"http://other.example?q", "/?q"},
		{"*", "*"},
	}
	for _, tt := range tests {
		if got := string(appendRequestTarget(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}
