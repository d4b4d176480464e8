package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// reloadHandler is a Node.js handler answering "<GREETING> <pid>".
const reloadHandler = "exports.handler = async () => ({statusCode: 200, headers: {'content-type': 'text/plain'}, body: `${process.env.GREETING} ${process.pid}`});\n"

// reloadConfig is the config of TestServeReloadUnderLoad; each field is
// one thing the test edits.
type reloadConfig struct {
	dir, admin, runtime string
	l1, l2, l3          string // ports; "" leaves the listener out
	rule                string // the body of the /rule fixed response
	greeting            string // the environment of the "changing" function
	priority            int    // of the /rule rule (0 is invalid)
}

func (c reloadConfig) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "state_dir: %s\nadmin: {address: %s}\nlisteners:\n", filepath.Join(c.dir, "state"), c.admin)
	fmt.Fprintf(&b, `  - port: %s
    address: 127.0.0.1
    default_action: {fixed_response: {status_code: 404, message_body: "none"}}
    rules:
      - {priority: 10, conditions: [{path_pattern: ["/stable"]}], action: {forward: {target_group: stable}}}
      - {priority: 20, conditions: [{path_pattern: ["/changing"]}], action: {forward: {target_group: changing}}}
      - {priority: %d, conditions: [{path_pattern: ["/rule"]}], action: {fixed_response: {status_code: 200, message_body: %q}}}
`, c.l1, c.priority, c.rule)
	for _, l := range []struct{ port, body string }{{c.l2, "l2"}, {c.l3, "l3"}} {
		if l.port != "" {
			fmt.Fprintf(&b, "  - {port: %s, address: 127.0.0.1, default_action: {fixed_response: {status_code: 200, message_body: %q}}}\n", l.port, l.body)
		}
	}
	policy := `[{sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}]`
	fmt.Fprintf(&b, `target_groups:
  - {name: stable, targets: [stable]}
  - {name: changing, targets: [changing]}
functions:
  - {name: stable, runtime: %[1]s, handler: index.handler, code: %[2]q, environment: {GREETING: stable}, policy: %[4]s}
  - {name: changing, runtime: %[1]s, handler: index.handler, code: %[2]q, environment: {GREETING: %[3]s}, policy: %[4]s}
`, c.runtime, filepath.Join(c.dir, "fn"), c.greeting, policy)
	return b.String()
}

// sample is one request of the load.
type sample struct {
	target     string
	start, end time.Time
	status     int
	body       string
	err        error
}

// steadyLoad sends GET url every interval until stop is closed, on one
// keep-alive connection, and records every answer.
func steadyLoad(url, target string, interval time.Duration, stop <-chan struct{}, out chan<- sample, wg *sync.WaitGroup) {
	defer wg.Done()
	c := &fasthttp.Client{ReadTimeout: 10 * time.Second, WriteTimeout: 5 * time.Second, MaxConnsPerHost: 1}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI(url)
		s := sample{target: target, start: time.Now()}
		s.err = c.DoTimeout(req, resp, 10*time.Second)
		s.end = time.Now()
		if s.err == nil {
			s.status, s.body = resp.StatusCode(), string(resp.Body())
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		out <- s
	}
}

// TestServeReloadUnderLoad: `albedo serve -watch` under a steady 200
// requests/s for 20 s while its config changes: a rule edited (the file
// saved by rename), a listener added and one removed (SIGHUP), a
// function's environment changed (the file written in place), an invalid
// edit. No request fails, except to the removed listener after its
// removal; every change is served within 1 s; the function nobody changed
// is served by the same process throughout; the invalid edit changes
// nothing and its problem is in the log.
func TestServeReloadUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("20 s of load on albedo as a child process")
	}
	runtime := exectest.LocalRuntime(t, "node")
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "fn"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fn", "index.js"), []byte(reloadHandler), 0o644); err != nil {
		t.Fatal(err)
	}
	port := func() string { _, p, _ := net.SplitHostPort(freeLoopbackAddr(t)); return p }
	cfg := reloadConfig{dir: dir, admin: freeLoopbackAddr(t), runtime: runtime, l1: port(), l2: port(), rule: "rule-v1", greeting: "v1", priority: 30}
	l3 := port()
	cfgPath, logPath := filepath.Join(dir, "albedo.yaml"), filepath.Join(dir, "albedo.log")
	save := func(c reloadConfig, byRename bool) time.Time {
		t.Helper()
		path := cfgPath
		if byRename { // as editors that write a new file and rename it do
			path = filepath.Join(dir, ".albedo.yaml.swp")
		}
		if err := os.WriteFile(path, []byte(c.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if byRename {
			if err := os.Rename(path, cfgPath); err != nil {
				t.Fatal(err)
			}
		}
		return time.Now()
	}
	save(cfg, false)
	child := startAlbedoChild(t, cfgPath, logPath, "-watch")
	child.waitListening(t, "127.0.0.1:"+cfg.l1, logPath)
	defer func() {
		if t.Failed() {
			t.Logf("albedo log:\n%s", logTail(logPath))
		}
	}()
	hup := func() time.Time {
		t.Helper()
		if err := child.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		return time.Now()
	}

	samples := make(chan sample, 8192)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	base := "http://127.0.0.1:" + cfg.l1
	for _, tt := range []struct{ url, target string }{
		{base + "/stable", "stable"}, {base + "/changing", "changing"}, {base + "/rule", "rule"},
		{"http://127.0.0.1:" + cfg.l2 + "/", "l2"},
	} {
		wg.Add(1)
		go steadyLoad(tt.url, tt.target, 20*time.Millisecond, stop, samples, &wg) // 4 × 50/s
	}

	time.Sleep(3 * time.Second)
	cfg.rule = "rule-v2"
	ruleAt := save(cfg, true)

	time.Sleep(3 * time.Second)
	cfg.l3 = l3
	save(cfg, false)
	l3At := hup()
	l3Served := time.Time{}
	for deadline := l3At.Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if code, body, err := get(t, "http://127.0.0.1:"+l3+"/"); err == nil && code == 200 && body == "l3" {
			l3Served = time.Now()
			break
		}
	}

	time.Sleep(3 * time.Second)
	l2 := cfg.l2
	cfg.l2 = ""
	save(cfg, false)
	l2RemovedAt := hup()

	time.Sleep(3 * time.Second)
	cfg.greeting = "v2"
	envAt := save(cfg, false)

	time.Sleep(3 * time.Second)
	bad := cfg
	bad.priority = 0
	save(bad, false)
	_, badErr := config.Parse([]byte(bad.String()), cfgPath) // what validate prints
	time.Sleep(2 * time.Second)
	save(cfg, false) // the valid file again
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	close(samples)
	loadEnd := time.Now()

	var all []sample
	for s := range samples {
		all = append(all, s)
	}
	if want := 3000; len(all) < want && !raceDetector {
		t.Errorf("only %d requests in the 20 s (4 × 50/s wanted)", len(all))
	}
	stablePIDs := map[string]int{}
	var ruleFirstV2, envFirstV2 time.Time
	var oldChangingPIDs = map[string]bool{}
	failed := 0
	for _, s := range all {
		ok := s.err == nil && s.status == 200
		if s.target == "l2" {
			if !ok && s.start.Before(l2RemovedAt) {
				failed++
				t.Errorf("l2 request at %s, before its removal, failed: %v %d", s.start.Format("15:04:05.000"), s.err, s.status)
			}
			continue
		}
		if !ok {
			failed++
			if failed <= 10 {
				t.Errorf("%s request at %s failed: %v %d %q", s.target, s.start.Format("15:04:05.000"), s.err, s.status, s.body)
			}
			continue
		}
		switch s.target {
		case "stable":
			stablePIDs[strings.TrimPrefix(s.body, "stable ")]++
		case "rule":
			switch {
			case s.body == "rule-v2" && ruleFirstV2.IsZero():
				ruleFirstV2 = s.end
			case s.body == "rule-v1" && s.start.After(ruleAt.Add(bound(time.Second))):
				t.Errorf("/rule answered rule-v1 at %s, more than %s after the edit", s.start.Format("15:04:05.000"), bound(time.Second))
			}
		case "changing":
			greeting, pid, _ := strings.Cut(s.body, " ")
			switch {
			case greeting == "v1":
				oldChangingPIDs[pid] = true
				if s.start.After(envAt.Add(bound(time.Second))) {
					t.Errorf("/changing answered v1 at %s, more than %s after the environment changed", s.start.Format("15:04:05.000"), bound(time.Second))
				}
			case greeting == "v2" && envFirstV2.IsZero():
				envFirstV2 = s.end
				if oldChangingPIDs[pid] {
					t.Errorf("the new environment runs in old process %s", pid)
				}
			}
		}
	}
	t.Logf("%d requests over %s, %d failed", len(all), loadEnd.Sub(all[0].start).Round(time.Millisecond), failed)
	if len(stablePIDs) != 1 {
		t.Errorf("the unchanged function was served by %d processes, want 1: %v", len(stablePIDs), stablePIDs)
	}
	for name, at := range map[string][2]time.Time{
		"edited rule":         {ruleAt, ruleFirstV2},
		"added listener":      {l3At, l3Served},
		"changed environment": {envAt, envFirstV2},
	} {
		switch d := at[1].Sub(at[0]); {
		case at[1].IsZero():
			t.Errorf("%s: never served", name)
		case d > bound(time.Second):
			t.Errorf("%s: served %s after the change, want within %s", name, d, bound(time.Second))
		default:
			t.Logf("%s: served %s after the change", name, d.Round(time.Millisecond))
		}
	}
	if _, _, err := get(t, "http://127.0.0.1:"+l2+"/"); err == nil {
		t.Error("the removed listener still answers")
	}
	log, _ := os.ReadFile(logPath)
	var errs config.Errors
	if !errors.As(badErr, &errs) || len(errs) == 0 {
		t.Fatalf("the invalid config parses: %v", badErr)
	}
	wants := []string{
		"config reload failed: albedo keeps serving the previous configuration",
		"listeners=+127.0.0.1:" + l3, "listeners=-127.0.0.1:" + l2, "functions=~changing",
	}
	for _, e := range errs {
		wants = append(wants, e.Error())
	}
	for _, want := range wants {
		if !strings.Contains(string(log), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if strings.Contains(string(log), "WARNING: DATA RACE") {
		t.Error("the race detector reported a race in albedo (go test -race)")
	}
}

// get sends one GET on a fresh connection.
func get(t *testing.T, url string) (int, string, error) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	req.SetConnectionClose()
	err := (&fasthttp.Client{}).DoTimeout(req, resp, 2*time.Second)
	return resp.StatusCode(), string(resp.Body()), err
}
