package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/internal/metricstest"
	"github.com/albedo-lb/albedo/lambdaadapter"
	"github.com/albedo-lb/albedo/targetgroup"
	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// opsConfig has one rule of each kind and two groups: echo (albecho, with
// health checks on a path whose answer the test switches through a file)
// and throttled (a function with reserved concurrency 0). %[1]s state dir,
// %[2]s admin address, %[3]s listener port, %[4]s albecho's directory,
// %[5]s the health file.
const opsConfig = `
state_dir: %[1]s
admin:
  address: %[2]s
pricing: {request_usd_per_million: 0.20, gb_second_usd: 0.0000166667}
listeners:
  - port: %[3]s
    address: 127.0.0.1
    default_action:
      fixed_response: {status_code: 404, message_body: "no route"}
    rules:
      - priority: 10
        conditions:
          - path_pattern: ["/echo", "/error", "/invalid"]
        action: {forward: {target_group: echo}}
      - priority: 20
        conditions:
          - path_pattern: ["/throttled"]
        action: {forward: {target_group: throttled}}
      - priority: 30
        conditions:
          - path_pattern: ["/old"]
        action: {redirect: {path: "/new", status_code: HTTP_301}}
      - priority: 40
        conditions:
          - path_pattern: ["/fixed"]
        action: {fixed_response: {status_code: 200, message_body: "fixed"}}
target_groups:
  - name: echo
    targets: [albecho]
    health_check: {enabled: true, path: /health-file, interval: 5, timeout: 2, healthy_threshold: 2, unhealthy_threshold: 2}
  - name: throttled
    targets: [zero]
functions:
  - name: albecho
    runtime: provided.al2023
    code: %[4]s
    memory_size: 256
    environment: {ALBECHO_HEALTH_FILE: %[5]s}
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
  - name: zero
    runtime: provided.al2023
    code: %[4]s
    reserved_concurrency: 0
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
`

// opsServed is albedo serve on opsConfig, as a child process.
type opsServed struct {
	c                 *childAlbedo
	dir, logPath      string
	listener, admin   string // 127.0.0.1:PORT
	healthFile, alogs string
}

func startOpsServed(t *testing.T, extra ...string) *opsServed {
	t.Helper()
	if testing.Short() {
		t.Skip("starts albedo as a child process")
	}
	dir := t.TempDir()
	o := &opsServed{dir: dir, logPath: filepath.Join(dir, "albedo.log"), listener: freeLoopbackAddr(t), admin: freeLoopbackAddr(t),
		healthFile: filepath.Join(dir, "healthy"), alogs: filepath.Join(dir, "access.log")}
	if err := os.WriteFile(o.healthFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(opsConfig, filepath.Join(dir, "state"), o.admin, portOf(o.listener), exectest.Build(t, "albecho"), o.healthFile)
	cfgPath := filepath.Join(dir, "albedo.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	o.c = startAlbedoChild(t, cfgPath, o.logPath, append([]string{"-access-log", o.alogs}, extra...)...)
	o.c.waitListening(t, o.listener, o.logPath)
	o.c.waitListening(t, o.admin, o.logPath)
	waitReady(t, o.admin)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("albedo log (tail):\n%s", logTail(o.logPath))
		}
	})
	return o
}

// httpDo sends method url (with header name, value pairs) and returns the
// status and body.
func httpDo(t *testing.T, method, url string, body []byte, header ...string) (int, []byte) {
	t.Helper()
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI(url)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
		if header[i] == "Host" {
			req.UseHostHeader = true
		}
	}
	if body != nil {
		req.SetBody(body)
	}
	c := &fasthttp.Client{ReadTimeout: 20 * time.Second, WriteTimeout: 20 * time.Second, MaxResponseBodySize: 16 << 20}
	if err := c.Do(req, resp); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp.StatusCode(), bytes.Clone(resp.Body())
}

// waitReady waits until the admin address's /readyz answers 200 (the
// sockets are bound, and accept, before albedo serves).
func waitReady(t *testing.T, admin string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		status, body := httpDo(t, "GET", "http://"+admin+"/readyz", nil)
		if status == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready: /readyz %d %s", status, body)
		}
	}
}

// scrape reads the admin address's /metrics with the Prometheus text
// parser.
func scrape(t *testing.T, admin string) metricstest.Samples {
	t.Helper()
	status, body := httpDo(t, "GET", "http://"+admin+"/metrics", nil)
	if status != 200 {
		t.Fatalf("/metrics: %d %s", status, body)
	}
	return metricstest.Parse(t, bytes.NewReader(body))
}

// targetHealth reads group's target health from /targetgroups.
func targetHealth(t *testing.T, admin, group string) targetgroup.TargetHealth {
	t.Helper()
	status, body := httpDo(t, "GET", "http://"+admin+"/targetgroups", nil)
	if status != 200 {
		t.Fatalf("/targetgroups: %d %s", status, body)
	}
	var view struct{ TargetGroups []targetgroup.GroupHealth }
	if err := json.Unmarshal(body, &view); err != nil {
		t.Fatalf("/targetgroups %s: %v", body, err)
	}
	for _, g := range view.TargetGroups {
		if g.TargetGroupName == group && len(g.TargetHealthDescriptions) == 1 {
			return g.TargetHealthDescriptions[0].TargetHealth
		}
	}
	t.Fatalf("/targetgroups has no single target for %s: %s", group, body)
	return targetgroup.TargetHealth{}
}

// sumReportLines adds up one function's REPORT lines in albedo's log.
func sumReportLines(t *testing.T, logPath, function string) metricstest.Reports {
	t.Helper()
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	return metricstest.SumReports(t, string(b), function)
}

// TestServeMetrics: a scripted mix of requests against a real albedo serve
// (success, function error, invalid response, throttle, redirect, fixed
// response, default rule, 413): the scraped counters equal the known
// counts; the function metrics (billed GB-seconds and cost included) equal
// what its REPORT lines imply, health checks included; a target that turns
// unhealthy and back is seen in /targetgroups and the metrics; and the
// access log holds the client requests and no health check.
func TestServeMetrics(t *testing.T) {
	t.Parallel()
	o := startOpsServed(t)
	base := "http://" + o.listener
	script := []struct {
		method, path string
		n, status    int
	}{
		{"GET", "/echo", 3, 200},
		{"GET", "/error", 2, 502},
		{"GET", "/invalid", 1, 502},
		{"GET", "/throttled", 1, 502},
		{"GET", "/old", 1, 301},
		{"GET", "/fixed", 1, 200},
		{"GET", "/nowhere", 2, 404},
	}
	requests := 1 // the 413 below
	for _, s := range script {
		for range s.n {
			if got, body := httpDo(t, s.method, base+s.path, nil); got != s.status {
				t.Fatalf("%s %s: %d %s, want %d", s.method, s.path, got, body, s.status)
			}
			requests++
		}
	}
	if got, _ := httpDo(t, "POST", base+"/echo", make([]byte, lambdaadapter.MaxRequestBodySize+1)); got != 413 {
		t.Fatalf("oversized body: %d, want 413", got)
	}

	// Health checks invoke albecho every 5 s: take the metrics when two
	// scrapes around the log agree with it.
	var s metricstest.Samples
	var rep metricstest.Reports
	for deadline := time.Now().Add(30 * time.Second); ; {
		s = scrape(t, o.admin)
		rep = sumReportLines(t, o.logPath, "albecho")
		again := scrape(t, o.admin)
		n := s.Get("albedo_function_invocations_total", "function", "albecho")
		if n == float64(rep.Lines) && again.Get("albedo_function_invocations_total", "function", "albecho") == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("albecho invocations %g never matched its %d REPORT lines", n, rep.Lines)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rep.Lines < 6 {
		t.Errorf("%d REPORT lines for albecho, want the 6 invocations of the script at least", rep.Lines)
	}
	lst := portOf(o.listener)
	type l = []string
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"albedo_lb_requests_total", l{"listener", lst, "rule", "10"}, 3 + 2 + 1 + 1},
		{"albedo_lb_requests_total", l{"listener", lst, "rule", "20"}, 1},
		{"albedo_lb_requests_total", l{"listener", lst, "rule", "30"}, 1},
		{"albedo_lb_requests_total", l{"listener", lst, "rule", "40"}, 1},
		{"albedo_lb_requests_total", l{"listener", lst, "rule", "0"}, 2},
		{"albedo_lb_responses_total", l{"listener", lst, "rule", "10", "producer", "function", "code_class", "2xx"}, 3},
		{"albedo_lb_responses_total", l{"listener", lst, "rule", "10", "producer", "albedo", "code_class", "5xx"}, 3},
		{"albedo_lb_responses_total", l{"listener", lst, "rule", "10", "producer", "albedo", "code_class", "4xx"}, 1},
		{"albedo_lb_responses_total", l{"listener", lst, "rule", "20", "producer", "albedo", "code_class", "5xx"}, 1},
		{"albedo_lb_responses_total", l{"listener", lst, "rule", "30", "producer", "albedo", "code_class", "3xx"}, 1},
		{"albedo_lb_responses_total", l{"listener", lst, "rule", "40", "producer", "albedo", "code_class", "2xx"}, 1},
		{"albedo_lb_responses_total", l{"listener", lst, "rule", "0", "producer", "albedo", "code_class", "4xx"}, 2},
		{"albedo_lb_lambda_user_errors_total", l{"target_group", "echo", "reason", "LambdaUnhandled"}, 2},
		{"albedo_lb_lambda_user_errors_total", l{"target_group", "echo", "reason", "LambdaInvalidResponse"}, 1},
		{"albedo_lb_lambda_user_errors_total", l{"target_group", "echo", "reason", "LambdaRequestTooLarge"}, 1},
		{"albedo_lb_lambda_user_errors_total", l{"target_group", "throttled", "reason", "LambdaThrottling"}, 1},
		{"albedo_lb_redirects_total", l{"listener", lst}, 1},
		{"albedo_lb_fixed_responses_total", l{"listener", lst}, 3},
		{"albedo_lb_target_duration_seconds_count", l{"listener", lst, "rule", "10", "target_group", "echo"}, 6},
		{"albedo_function_throttles_total", l{"function", "zero"}, 1},
		{"albedo_function_invocations_total", l{"function", "zero"}, 0},
		{"albedo_function_errors_total", l{"function", "albecho"}, 2},
		{"albedo_function_cold_starts_total", l{"function", "albecho"}, float64(rep.Cold)},
		{"albedo_function_duration_seconds_count", l{"function", "albecho"}, float64(rep.Lines)},
		{"albedo_function_max_memory_used_bytes", l{"function", "albecho"}, float64(rep.MaxMemoryMB) * (1 << 20)},
		{"albedo_config_last_reload_successful", nil, 1},
		{"albedo_config_reloads_total", l{"result", "success"}, 0},
		{"albedo_async_queue_depth", nil, 0},
		{"albedo_body_budget_bytes_in_use", nil, 0},
		{"albedo_body_budget_limit_bytes", nil, 256 << 20},
	}
	for _, c := range checks {
		if got := s.Get(c.name, c.labels...); got != c.want || !s.Has(c.name, c.labels...) {
			t.Errorf("%s%v = %g, want %g", c.name, c.labels, got, c.want)
		}
	}
	if got := s.Sum("albedo_lb_lambda_internal_errors_total"); got != 0 {
		t.Errorf("internal errors %g, want 0", got)
	}
	if got := s.Get("albedo_function_billed_gb_seconds_total", "function", "albecho"); !metricstest.Near(got, rep.GBSeconds) {
		t.Errorf("billed GB-s %.12g, the REPORT lines say %.12g", got, rep.GBSeconds)
	}
	wantCost := float64(rep.Lines)*0.20/1e6 + rep.GBSeconds*0.0000166667
	if got := s.Get("albedo_function_estimated_cost_usd_total", "function", "albecho"); !metricstest.Near(got, wantCost) {
		t.Errorf("cost %.15g USD, the REPORT lines say %.15g", got, wantCost)
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", s)
	}

	// Health: healthy, then unhealthy when the health path answers 503,
	// then healthy again; the same states in the gauge.
	waitHealth := func(want targetgroup.TargetHealth) {
		t.Helper()
		for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			got := targetHealth(t, o.admin, "echo")
			gauge := scrape(t, o.admin).Get("albedo_target_group_target_health", "target_group", "echo", "function", "albecho", "state", want.State)
			if got == want && gauge == 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("echo's target %+v (gauge %s %g), want %+v", got, want.State, gauge, want)
			}
		}
	}
	waitHealth(targetgroup.TargetHealth{State: "healthy"})
	if err := os.Remove(o.healthFile); err != nil {
		t.Fatal(err)
	}
	waitHealth(targetgroup.TargetHealth{State: "unhealthy", Reason: "Target.ResponseCodeMismatch", Description: "Health checks failed with these codes: [503]"})
	if err := os.WriteFile(o.healthFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitHealth(targetgroup.TargetHealth{State: "healthy"})
	if got := targetHealth(t, o.admin, "throttled"); got.State != "unavailable" || got.Reason != "Target.HealthCheckDisabled" {
		t.Errorf("throttled group (no health checks): %+v, want unavailable, Target.HealthCheckDisabled", got)
	}
	s = scrape(t, o.admin)
	if ok, failed := s.Get("albedo_target_group_health_checks_total", "target_group", "echo", "result", "success"),
		s.Get("albedo_target_group_health_checks_total", "target_group", "echo", "result", "failure"); ok < 4 || failed < 2 {
		t.Errorf("health checks: %g passed, %g failed; want at least 4 and 2", ok, failed)
	}

	// The access log: every client request (flushed within a second), no
	// health check although albecho ran them all along.
	var lines []string
	for deadline := time.Now().Add(10 * time.Second); len(lines) < requests; time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(o.alogs)
		lines = strings.Split(strings.TrimSpace(string(b)), "\n")
		if time.Now().After(deadline) {
			break
		}
	}
	if len(lines) != requests {
		t.Errorf("access log has %d lines, want the %d client requests:\n%s", len(lines), requests, strings.Join(lines, "\n"))
	}
	for _, line := range lines {
		if strings.Contains(line, "ELB-HealthChecker") || strings.Contains(line, "/health-file") {
			t.Errorf("a health check reached the access log: %s", line)
		}
	}
}

// TestServeOpsAccess: /healthz and /readyz answer anyone; /metrics and
// /targetgroups refuse a Host that is not loopback (DNS rebinding) and
// admit the ops token from any host; writes are refused.
func TestServeOpsAccess(t *testing.T) {
	t.Parallel()
	s := startServed(t, "  ops_token: test-ops-token-0123456789")
	waitReady(t, s.admin)
	admin := "http://" + s.admin
	tests := []struct {
		method, path string
		header       []string
		want         int
	}{
		{"GET", "/healthz", []string{"Host", "attacker.example"}, 200},
		{"GET", "/readyz", []string{"Host", "10.1.2.3:9001"}, 200},
		{"GET", "/metrics", nil, 200},
		{"GET", "/metrics", []string{"Host", "attacker.example"}, 403},
		{"GET", "/targetgroups", []string{"Host", "attacker.example"}, 403},
		{"GET", "/metrics", []string{"Host", "prometheus.internal", "Authorization", "Bearer test-ops-token-0123456789"}, 200},
		{"GET", "/targetgroups", []string{"Host", "prometheus.internal", "Authorization", "Bearer test-ops-token-0123456789"}, 200},
		{"GET", "/metrics", []string{"Host", "prometheus.internal", "Authorization", "Bearer wrong"}, 403},
		{"POST", "/metrics", nil, 405},
	}
	for _, tt := range tests {
		if got, body := httpDo(t, tt.method, admin+tt.path, nil, tt.header...); got != tt.want {
			t.Errorf("%s %s %v: %d %s, want %d", tt.method, tt.path, tt.header, got, body, tt.want)
		}
	}
	if _, body := httpDo(t, "GET", admin+"/readyz", nil); string(body) != `{"status":"ready"}`+"\n" {
		t.Errorf("/readyz body %q", body)
	}
}

// TestServeReadyzDuringBuild: the admin address answers while a function
// builds: /healthz 200, /readyz 503 with the reason, and 200 once every
// listener serves.
func TestServeReadyzDuringBuild(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts albedo as a child process")
	}
	dir := t.TempDir()
	admin, listener := freeLoopbackAddr(t), freeLoopbackAddr(t)
	cfg := fmt.Sprintf(startupConfig, filepath.Join(dir, "state"), admin, portOf(listener), exectest.Build(t, "albecho"), "sleep 3")
	cfgPath := filepath.Join(dir, "albedo.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "albedo.log")
	c := startAlbedoChild(t, cfgPath, logPath)
	c.waitListening(t, admin, logPath)
	sawBuilding := false
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		status, body := httpDo(t, "GET", "http://"+admin+"/readyz", nil)
		if status == 503 && string(body) == `{"status":"not ready","reason":"starting: building functions"}`+"\n" {
			sawBuilding = true
			if hs, _ := httpDo(t, "GET", "http://"+admin+"/healthz", nil); hs != 200 {
				t.Errorf("/healthz %d during the build, want 200", hs)
			}
		}
		if status == 200 {
			break
		}
		if status != 503 {
			t.Fatalf("/readyz %d %s", status, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready; last /readyz %d %s", status, body)
		}
	}
	if !sawBuilding {
		t.Error("/readyz never said the functions were building")
	}
	if got, _ := httpDo(t, "GET", "http://"+listener+"/", nil); got != 200 {
		t.Errorf("listener answered %d once ready, want 200", got)
	}
}

// TestReadyzQueueClosed: /readyz answers 503 once the async queue is
// closed.
func TestReadyzQueueClosed(t *testing.T) {
	t.Parallel()
	e := startE2E(t, parseE2EConfig(t, `
listeners:
  - port: 8080
    default_action: {forward: {target_group: web}}
target_groups:
  - {name: web, targets: [albecho]}
functions:
  - name: albecho
    runtime: provided.al2023
    code: {{albecho}}
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
`))
	if got, body := httpDo(t, "GET", e.admin+"/readyz", nil); got != 200 {
		t.Fatalf("/readyz %d %s before closing the queue", got, body)
	}
	if err := e.s.queue.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, body := httpDo(t, "GET", e.admin+"/readyz", nil)
	if got != 503 || string(body) != `{"status":"not ready","reason":"async queue closed"}`+"\n" {
		t.Errorf("/readyz %d %s, want 503 async queue closed", got, body)
	}
}

// TestServeLogFlags: the log: section and the -log-level/-log-format flags
// that override it. JSON: every stderr line is a JSON object, debug
// records included at debug, function output and START/END/REPORT in
// "msg" as Lambda writes them. Text at warn: none of albedo's info
// records, the function's lines still there.
func TestServeLogFlags(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts albedo as a child process")
	}
	code := exectest.Build(t, "albecho")
	run := func(t *testing.T, logSection string, flags ...string) (stdout, stderr string) {
		t.Helper()
		dir := t.TempDir()
		admin, listener := freeLoopbackAddr(t), freeLoopbackAddr(t)
		cfg := fmt.Sprintf(hardeningConfig, filepath.Join(dir, "state"), admin, portOf(listener), code, "") + logSection
		cfgPath := filepath.Join(dir, "albedo.yaml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		outPath, errPath := filepath.Join(dir, "stdout"), filepath.Join(dir, "stderr")
		c := startAlbedoStreams(t, "", nil, outPath, errPath, append([]string{"serve", "-config", cfgPath}, flags...)...)
		c.waitListening(t, listener, errPath)
		c.waitListening(t, admin, errPath)
		waitReady(t, admin)
		if got, _ := httpDo(t, "GET", "http://"+listener+"/hello", nil); got != 200 {
			t.Fatalf("GET /hello: %d", got)
		}
		if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if got := c.exitCode(t, 20*time.Second, errPath); got != 0 {
			t.Fatalf("exit %d:\n%s", got, logTail(errPath))
		}
		o, _ := os.ReadFile(outPath)
		e, _ := os.ReadFile(errPath)
		return string(o), string(e)
	}

	t.Run("json from the config", func(t *testing.T) {
		t.Parallel()
		_, stderr := run(t, "log: {level: debug, format: json}\n")
		var debug, start, report, listening bool
		for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
			var r map[string]any
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("stderr line is not JSON: %q: %v", line, err)
			}
			msg, _ := r["msg"].(string)
			switch {
			case r["level"] == "DEBUG":
				debug = true
			case strings.HasPrefix(msg, "START RequestId: ") && r["function"] == "albecho":
				start = true
			case strings.HasPrefix(msg, "REPORT RequestId: ") && strings.Contains(msg, "\tBilled Duration: ") && r["function"] == "albecho":
				report = true
			case msg == "listening":
				listening = true
			}
		}
		if !debug || !start || !report || !listening {
			t.Errorf("debug %v, START %v, REPORT %v, listening %v; want all:\n%s", debug, start, report, listening, stderr)
		}
	})
	t.Run("text at warn from the flags", func(t *testing.T) {
		t.Parallel()
		_, stderr := run(t, "log: {level: debug, format: json}\n", "-log-format", "text", "-log-level", "warn")
		if strings.Contains(stderr, "level=INFO") || strings.Contains(stderr, "level=DEBUG") || strings.Contains(stderr, `"level"`) {
			t.Errorf("albedo's info or debug records, or JSON, at -log-level warn -log-format text:\n%s", stderr)
		}
		if !strings.Contains(stderr, "[albecho] START RequestId: ") || !strings.Contains(stderr, "[albecho] REPORT RequestId: ") {
			t.Errorf("the function's lines are missing:\n%s", stderr)
		}
	})
}
