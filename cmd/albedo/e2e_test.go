package main

import (
	"bytes"
	"context"
	cryptotls "crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// TestMain lets the test binary act as albedo's own binary for builtin
// functions: the executor starts os.Executable() with the hidden
// subcommand, which here is the test binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == builtinSubcommand {
		os.Exit(runBuiltin(os.Args[2:]))
	}
	// The test binary is albedo itself (`albedo serve …`) for tests that
	// run it as a child process (async_e2e_test.go).
	if os.Getenv(serveChildEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// e2e is albedo started in-process, as `albedo serve` does, on loopback
// ports chosen by the kernel.
type e2e struct {
	t     *testing.T
	s     *server
	base  string // http://127.0.0.1:PORT of the first listener
	admin string // http://127.0.0.1:PORT of the admin listener
	log   *lockedBuffer
}

// lockedBuffer collects function and albedo log lines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startE2E parses yamlText (with {{albecho}} replaced by the directory of
// the built albecho function), moves every listener and the admin address
// to ephemeral ports and starts albedo.
func startE2E(t *testing.T, cfg *config.Config) *e2e {
	t.Helper()
	for i := range cfg.Listeners {
		cfg.Listeners[i].Port = 0
		cfg.Listeners[i].Address = "127.0.0.1"
	}
	cfg.Admin.Address = "127.0.0.1:0"
	cfg.StateDir = t.TempDir()
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := start(ctx, cfg, log, logs, logs)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	e := &e2e{t: t, s: s, log: logs}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := s.shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("albedo log:\n%s", logs.String())
		}
	})
	e.base = "http://" + s.bal.Addrs()[0].String()
	e.admin = "http://" + s.adminLn.Addr().String()
	return e
}

func parseE2EConfig(t *testing.T, yamlText string) *config.Config {
	t.Helper()
	dir := exectest.Build(t, "albecho")
	yamlText = strings.ReplaceAll(yamlText, "{{albecho}}", dir)
	cfg, err := config.Parse([]byte(yamlText), filepath.Join(t.TempDir(), "albedo.yaml"))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// do sends one request and returns the response (copied).
func (e *e2e) do(method, uri string, body []byte, header ...string) (int, http1Header, []byte) {
	e.t.Helper()
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI(e.base + uri)
	req.URI().DisablePathNormalizing = true
	for i := 0; i+1 < len(header); i += 2 {
		if strings.EqualFold(header[i], "Host") {
			req.Header.SetHost(header[i+1])
			req.UseHostHeader = true
			continue
		}
		req.Header.Add(header[i], header[i+1])
	}
	if body != nil {
		req.SetBody(body)
	}
	c := &fasthttp.Client{DisablePathNormalizing: true, ReadTimeout: 30 * time.Second, MaxResponseBodySize: 8 << 20}
	if err := c.Do(req, resp); err != nil {
		e.t.Fatalf("%s %s: %v", method, uri, err)
	}
	h := http1Header{}
	for k, v := range resp.Header.All() {
		h[string(k)] = append(h[string(k)], string(v))
	}
	return resp.StatusCode(), h, append([]byte(nil), resp.Body()...)
}

type http1Header map[string][]string

const e2eConfig = `
listeners:
  - port: 1
    default_action:
      forward: {target_group: single}
    rules:
      - priority: 10
        conditions: [{path_pattern: ["/mv/*"]}]
        action: {forward: {target_group: multi}}
      - priority: 20
        conditions: [{path_pattern: ["/throttled"]}]
        action: {forward: {target_group: throttled}}
      - priority: 30
        conditions: [{path_pattern: ["/fixed"]}]
        action: {fixed_response: {status_code: 418, content_type: text/plain, message_body: "short and stout"}}
      - priority: 40
        conditions: [{path_pattern: ["/old/*"]}]
        action: {redirect: {path: "/new/#{path}", status_code: HTTP_301}}
target_groups:
  - name: single
    targets: [albecho]
  - name: multi
    targets: [albecho]
    multi_value_headers: true
  - name: throttled
    targets: [zero]
functions:
  - name: albecho
    runtime: provided.al2023
    code: {{albecho}}
    timeout: 1
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
  - name: zero
    runtime: provided.al2023
    code: {{albecho}}
    reserved_concurrency: 0
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
`

func TestE2EEvent(t *testing.T) {
	e := startE2E(t, parseE2EConfig(t, e2eConfig))
	port := e.base[strings.LastIndexByte(e.base, ':')+1:]

	t.Run("single-value", func(t *testing.T) {
		code, h, body := e.do("GET", "/a%20b/c?x=1&x=2&y=a+b%2F&flag", nil,
			"X-Dup", "first", "X-Dup", "second", "X-Forwarded-For", "203.0.113.9")
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		if got := h["Server"]; len(got) != 1 || got[0] != "albedo" {
			t.Errorf("Server = %q", got)
		}
		if got := h["X-Albecho"]; len(got) != 1 || got[0] != "a" {
			t.Errorf("X-Albecho = %q", got)
		}
		var ev events.ALBTargetGroupRequest
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		want := map[string]string{
			"path":              ev.Path,
			"method":            ev.HTTPMethod,
			"x":                 ev.QueryStringParameters["x"],
			"y":                 ev.QueryStringParameters["y"],
			"flag":              ev.QueryStringParameters["flag"],
			"x-dup":             ev.Headers["x-dup"],
			"x-forwarded-for":   ev.Headers["x-forwarded-for"],
			"x-forwarded-proto": ev.Headers["x-forwarded-proto"],
			"x-forwarded-port":  ev.Headers["x-forwarded-port"],
		}
		expect := map[string]string{
			"path": "/a%20b/c", "method": "GET", "x": "2", "y": "a+b%2F", "flag": "",
			"x-dup": "second", "x-forwarded-for": "203.0.113.9, 127.0.0.1",
			"x-forwarded-proto": "http", "x-forwarded-port": port,
		}
		for k, v := range expect {
			if want[k] != v {
				t.Errorf("%s = %q, want %q", k, want[k], v)
			}
		}
		if !strings.HasPrefix(ev.Headers["x-amzn-trace-id"], "Root=1-") {
			t.Errorf("x-amzn-trace-id = %q", ev.Headers["x-amzn-trace-id"])
		}
		if !strings.HasPrefix(ev.RequestContext.ELB.TargetGroupArn, "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/single/") {
			t.Errorf("targetGroupArn = %q", ev.RequestContext.ELB.TargetGroupArn)
		}
		if ev.MultiValueHeaders != nil || ev.MultiValueQueryStringParameters != nil {
			t.Errorf("multi-value fields in single-value mode: %s", body)
		}
	})

	t.Run("multi-value", func(t *testing.T) {
		code, h, body := e.do("GET", "/mv/x?x=1&x=2", nil, "X-Dup", "first", "X-Dup", "second")
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		if got := h["X-Albecho"]; len(got) != 2 || got[0] != "a" || got[1] != "b" {
			t.Errorf("X-Albecho = %q, want [a b]", got)
		}
		var ev events.ALBTargetGroupRequest
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Fatal(err)
		}
		if got := ev.MultiValueHeaders["x-dup"]; strings.Join(got, ",") != "first,second" {
			t.Errorf("x-dup = %q", got)
		}
		if got := ev.MultiValueQueryStringParameters["x"]; strings.Join(got, ",") != "1,2" {
			t.Errorf("x = %q", got)
		}
		if ev.Headers != nil || ev.QueryStringParameters != nil {
			t.Errorf("single-value fields in multi-value mode: %s", body)
		}
	})

	t.Run("bodies", func(t *testing.T) {
		tests := []struct {
			ctype   string
			body    []byte
			wantB64 bool
		}{
			{"application/json", []byte(`{"a":1}`), false},
			{"text/plain; charset=utf-8", []byte("hello"), false},
			{"application/octet-stream", []byte{0, 1, 2, 0xff}, true},
		}
		for _, tt := range tests {
			code, _, body := e.do("POST", "/post", tt.body, "Content-Type", tt.ctype)
			if code != 200 {
				t.Fatalf("%s: status %d: %s", tt.ctype, code, body)
			}
			var ev events.ALBTargetGroupRequest
			if err := json.Unmarshal(body, &ev); err != nil {
				t.Fatal(err)
			}
			got := []byte(ev.Body)
			if ev.IsBase64Encoded {
				got, _ = base64.StdEncoding.DecodeString(ev.Body)
			}
			if ev.IsBase64Encoded != tt.wantB64 || string(got) != string(tt.body) {
				t.Errorf("%s: isBase64Encoded=%v body=%q", tt.ctype, ev.IsBase64Encoded, ev.Body)
			}
		}
	})

	t.Run("actions", func(t *testing.T) {
		code, _, body := e.do("GET", "/fixed", nil)
		if code != 418 || string(body) != "short and stout" {
			t.Errorf("fixed: %d %q", code, body)
		}
		code, h, _ := e.do("GET", "/old/x?q=1", nil, "Host", "example.com")
		if code != 301 || len(h["Location"]) != 1 || !strings.Contains(h["Location"][0], "example.com") || !strings.Contains(h["Location"][0], "/new/old/x?q=1") {
			t.Errorf("redirect: %d %q", code, h["Location"])
		}
	})
}

func TestE2EFailures(t *testing.T) {
	e := startE2E(t, parseE2EConfig(t, e2eConfig))
	tests := []struct {
		name   string
		method string
		uri    string
		body   []byte
		header []string
		want   int
	}{
		{name: "function status", method: "GET", uri: "/x", header: []string{"x-albecho-status", "404"}, want: 404},
		{name: "function error", method: "GET", uri: "/error", want: 502},
		{name: "invalid response", method: "GET", uri: "/invalid", want: 502},
		{name: "crash", method: "GET", uri: "/exit", want: 502},
		{name: "after crash", method: "GET", uri: "/x", want: 200},
		{name: "timeout", method: "GET", uri: "/sleep?ms=3000", want: 502},
		{name: "after timeout", method: "GET", uri: "/x", want: 200},
		{name: "throttled", method: "GET", uri: "/throttled", want: 502},
		{name: "websocket", method: "GET", uri: "/x", header: []string{"Connection", "Upgrade", "Upgrade", "websocket"}, want: 400},
		{name: "trace", method: "TRACE", uri: "/x", want: 405},
		{name: "response over 1 MB", method: "POST", uri: "/x", body: bytes.Repeat([]byte("a"), 1<<20), header: []string{"Content-Type", "text/plain"}, want: 502},
		{name: "body 1 MB", method: "POST", uri: "/discard", body: bytes.Repeat([]byte("a"), 1<<20), header: []string{"Content-Type", "text/plain"}, want: 200},
	}
	for _, tt := range tests {
		code, _, body := e.do(tt.method, tt.uri, tt.body, tt.header...)
		if code != tt.want {
			t.Errorf("%s: status %d, want %d: %.300s", tt.name, code, tt.want, body)
		}
		if code >= 500 && !strings.Contains(string(body), "<title>"+strconv.Itoa(code)) {
			t.Errorf("%s: body is not ALB's error page: %q", tt.name, body)
		}
	}

	// The access log (flushed every second) names the ALB's error_reason
	// of each failure.
	for _, reason := range []string{`"LambdaInvalidResponse"`, `"LambdaUnhandled"`, `"LambdaThrottling"`, `"LambdaResponseTooLarge"`} {
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(e.log.String(), reason) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(e.log.String(), reason) {
			t.Errorf("access log has no %s line", reason)
		}
	}

	// A body over 1 MB is refused before the function is invoked.
	before := e.s.pool.Stats().Invocations
	code, _, _ := e.do("POST", "/discard", bytes.Repeat([]byte("a"), 1<<20+1), "Content-Type", "text/plain")
	if code != 413 {
		t.Errorf("1 MB + 1: status %d, want 413", code)
	}
	if after := e.s.pool.Stats().Invocations; after != before {
		t.Errorf("1 MB + 1: function invoked (%d -> %d invocations)", before, after)
	}
}

// TestE2EPolicyAPI removes and re-adds the ALB's permission through the
// Lambda API with the AWS SDK: the listener's next request follows it.
func TestE2EPolicyAPI(t *testing.T) {
	e := startE2E(t, parseE2EConfig(t, e2eConfig))
	client := lambda.New(lambda.Options{
		BaseEndpoint: aws.String(e.admin),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	ctx := context.Background()
	if code, _, body := e.do("GET", "/x", nil); code != 200 {
		t.Fatalf("before: %d %s", code, body)
	}
	if _, err := client.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("albecho"), StatementId: aws.String("alb")}); err != nil {
		t.Fatalf("RemovePermission: %v", err)
	}
	if code, _, _ := e.do("GET", "/x", nil); code != 502 {
		t.Fatalf("after RemovePermission: status %d, want 502 (LambdaAccessDenied)", code)
	}
	arn := e.s.cfg.TargetGroups[0].ARN
	if _, err := client.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName:  aws.String("albecho"),
		StatementId:   aws.String("alb2"),
		Principal:     aws.String("elasticloadbalancing.amazonaws.com"),
		Action:        aws.String("lambda:InvokeFunction"),
		SourceArn:     aws.String(arn),
		SourceAccount: aws.String("123456789012"),
	}); err != nil {
		t.Fatalf("AddPermission: %v", err)
	}
	if code, _, body := e.do("GET", "/x", nil); code != 200 {
		t.Fatalf("after AddPermission: %d %s", code, body)
	}
	// The statement names the single group only: the multi-value group,
	// with its own ARN, is still denied.
	if code, _, _ := e.do("GET", "/mv/x", nil); code != 502 {
		t.Fatalf("other group after AddPermission: status %d, want 502", code)
	}
}

// TestE2EGracefulShutdown: requests in flight when shutdown starts are all
// answered.
func TestE2EGracefulShutdown(t *testing.T) {
	cfg := parseE2EConfig(t, e2eConfig)
	cfg.Functions[0].Timeout = 10
	e := startE2E(t, cfg)
	const n = 5
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() {
			c := &fasthttp.Client{ReadTimeout: 20 * time.Second}
			req := fasthttp.AcquireRequest()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(e.base + "/sleep?ms=700")
			if err := c.Do(req, resp); err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			codes[i] = resp.StatusCode()
		})
	}
	// Wait until every request reached a function, then shut down.
	deadline := time.Now().Add(10 * time.Second)
	for e.s.pool.Stats().Invocations < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := e.s.bal.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("request %d: status %d, want 200", i, c)
		}
	}
	// The listener no longer accepts.
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(e.base, "http://"), time.Second); err == nil {
		conn.Close()
		t.Errorf("listener still accepts after shutdown")
	}
}

// TestE2EEmbeddedDefault runs the embedded default config: the builtin echo
// function answers with the event it received.
func TestE2EEmbeddedDefault(t *testing.T) {
	e := startE2E(t, config.Default())
	code, h, body := e.do("GET", "/echo?a=1&a=2", nil)
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	if ct := h["Content-Type"]; len(ct) != 1 || ct[0] != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var ev events.ALBTargetGroupRequest
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if ev.Path != "/echo" || ev.QueryStringParameters["a"] != "2" || ev.HTTPMethod != "GET" {
		t.Errorf("event: %s", body)
	}
	if !strings.Contains(string(body), "\n  \"requestContext\"") {
		t.Errorf("body is not pretty JSON: %s", body)
	}
	// Everything else goes to echo too.
	if code, _, _ := e.do("GET", "/anything", nil); code != 200 {
		t.Errorf("/anything: status %d", code)
	}
	if !strings.Contains(e.log.String(), "REPORT RequestId: ") {
		t.Errorf("no REPORT line in the log")
	}
}

// TestE2EHTTPS serves an HTTPS listener with the test certificate: the
// function sees x-forwarded-proto https and the listener's port.
func TestE2EHTTPS(t *testing.T) {
	tls := filepath.Join("..", "..", "testdata", "config", "tls")
	site, err := filepath.Abs(filepath.Join(tls, "site.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := filepath.Abs(filepath.Join(tls, "site-key.pem"))
	cfg := parseE2EConfig(t, strings.Replace(e2eConfig, "  - port: 1\n", fmt.Sprintf(
		"  - port: 1\n    protocol: HTTPS\n    certificates: [{certificate_file: %q, private_key_file: %q}]\n", site, key), 1))
	e := startE2E(t, cfg)
	addr := strings.TrimPrefix(e.base, "http://")
	c := &fasthttp.Client{TLSConfig: &cryptotls.Config{InsecureSkipVerify: true, ServerName: "example.com"}, ReadTimeout: 10 * time.Second}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("https://" + addr + "/tls")
	if err := c.Do(req, resp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
	}
	var ev events.ALBTargetGroupRequest
	if err := json.Unmarshal(resp.Body(), &ev); err != nil {
		t.Fatal(err)
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	if ev.Headers["x-forwarded-proto"] != "https" || ev.Headers["x-forwarded-port"] != port {
		t.Errorf("x-forwarded-proto %q port %q, want https %s", ev.Headers["x-forwarded-proto"], ev.Headers["x-forwarded-port"], port)
	}
}
