package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startupConfig is a one-listener, one-function config. The function's
// build command is the last %q: the tests check it never ran, or interrupt
// it.
const startupConfig = `
state_dir: %q
admin:
  address: %q
listeners:
  - port: %s
    address: 127.0.0.1
    default_action:
      forward: {target_group: web}
target_groups:
  - name: web
    targets: [web-fn]
functions:
  - name: web-fn
    runtime: provided.al2023
    code: %q
    build: [sh, -c, %q]
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
`

// exitCode waits (at most within) for c to exit and returns its status.
func (c *childAlbedo) exitCode(t *testing.T, within time.Duration, logPath string) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(within):
		t.Fatalf("albedo still running %s after it should have ended:\n%s", within, logTail(logPath))
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		return ee.ExitCode()
	}
	if c.err != nil {
		t.Fatalf("albedo: %v", c.err)
	}
	return 0
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// TestServeBusyPort: when a port albedo needs is taken (the README's quick
// start still running holds 8080 and 9001), `albedo serve` exits 1 within
// 2 s, says which setting to change, and neither built a function nor
// opened its state: it binds every socket first. Before, a busy admin
// address hung the process for good (Balancer.Shutdown waiting on a Serve
// that never stopped), and a busy listener was reported without the
// setting.
func TestServeBusyPort(t *testing.T) {
	t.Parallel()
	// Held until the parallel subtests are done (t.Cleanup, not defer).
	hold := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return ln.Addr().String()
	}
	busyAddr, busyAdmin := hold(), hold()
	tests := []struct {
		name         string
		adminBusy    bool
		listenerBusy bool
		want         []string
	}{
		{name: "admin", adminBusy: true, want: []string{"albedo: admin.address: cannot listen on " + busyAdmin + ": address already in use"}},
		{name: "listener", listenerBusy: true, want: []string{"albedo: listeners[0].port: cannot listen on " + busyAddr + ": address already in use"}},
		{name: "both", adminBusy: true, listenerBusy: true, want: []string{"albedo: listeners[0].port: cannot listen on", "albedo: admin.address: cannot listen on"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			admin, port := freeLoopbackAddr(t), portOf(freeLoopbackAddr(t))
			if tt.adminBusy {
				admin = busyAdmin
			}
			if tt.listenerBusy {
				port = portOf(busyAddr)
			}
			code := filepath.Join(dir, "fn")
			if err := os.Mkdir(code, 0o755); err != nil {
				t.Fatal(err)
			}
			state := filepath.Join(dir, "state")
			cfgPath := filepath.Join(dir, "albedo.yaml")
			cfg := fmt.Sprintf(startupConfig, state, admin, port, code, "touch built")
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			logPath := filepath.Join(dir, "albedo.log")
			c := startAlbedo(t, nil, logPath, "serve", cfgPath)
			if got := c.exitCode(t, 2*time.Second, logPath); got != 1 {
				t.Errorf("exit status %d, want 1", got)
			}
			out := logTail(logPath)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if !strings.Contains(out, "set ") || !strings.Contains(out, " in "+cfgPath) {
				t.Errorf("output does not say what to change in %s:\n%s", cfgPath, out)
			}
			if _, err := os.Stat(filepath.Join(code, "built")); err == nil {
				t.Error("the function was built before the sockets were bound")
			}
			if _, err := os.Stat(state); err == nil {
				t.Error("state_dir was created before the sockets were bound")
			}
		})
	}
}

// TestServeSignalDuringBuild: SIGINT or SIGTERM while a function's build
// command runs ends albedo promptly, and the build with everything it
// started. Before, only the build's direct child was killed and albedo
// waited for its children (here a 60 s sleep).
func TestServeSignalDuringBuild(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			code := filepath.Join(dir, "fn")
			if err := os.Mkdir(code, 0o755); err != nil {
				t.Fatal(err)
			}
			build := "sleep 60 & echo $! > sleep.pid.tmp && mv sleep.pid.tmp sleep.pid; wait"
			cfgPath := filepath.Join(dir, "albedo.yaml")
			cfg := fmt.Sprintf(startupConfig, filepath.Join(dir, "state"), freeLoopbackAddr(t), portOf(freeLoopbackAddr(t)), code, build)
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			logPath := filepath.Join(dir, "albedo.log")
			mark := "ALBEDO_TEST_BUILD=" + strconv.Itoa(os.Getpid()) + "-" + sig.String()
			c := startAlbedo(t, []string{mark}, logPath, "serve", "-config", cfgPath)
			t.Cleanup(func() { waitNoProcesses(t, mark, "cleanup") })
			pidFile := filepath.Join(code, "sleep.pid")
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if _, err := os.Stat(pidFile); err == nil {
					break
				}
				if c.exited() || time.Now().After(deadline) {
					t.Fatalf("the build did not start:\n%s", logTail(logPath))
				}
			}
			if err := c.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if got := c.exitCode(t, 5*time.Second, logPath); got != 1 {
				t.Errorf("exit status %d, want 1", got)
			}
			if out := logTail(logPath); !strings.Contains(out, "albedo: interrupted during start-up") {
				t.Errorf("output lacks the interruption:\n%s", out)
			}
			waitNoProcesses(t, mark, "after the signal")
		})
	}
}

// TestServeFunctionsOnly: a config with functions and no listeners serves
// the Invoke API alone (it used to exit 1: "balancer: no listeners").
func TestServeFunctionsOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	admin := freeLoopbackAddr(t)
	cfgPath := filepath.Join(dir, "albedo.yaml")
	cfg := fmt.Sprintf(`
state_dir: %q
admin: {address: %q}
functions:
  - name: echo
    runtime: builtin
    handler: echo
`, filepath.Join(dir, "state"), admin)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "albedo.log")
	c := startAlbedo(t, nil, logPath, "serve", "-config", cfgPath)
	c.waitListening(t, admin, logPath)
	resp, err := http.Post("http://"+admin+"/2015-03-31/functions/echo/invocations", "application/json", strings.NewReader(`{"path":"/fn-only"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `/fn-only`) {
		t.Errorf("Invoke: %d %s\n%s", resp.StatusCode, body, logTail(logPath))
	}
	if out := waitLogContains(logPath, "no listeners: functions are served by the Invoke API alone"); !strings.Contains(out, "no listeners: functions are served by the Invoke API alone") {
		t.Errorf("start-up summary lacks the functions-only line:\n%s", out)
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := c.exitCode(t, 30*time.Second, logPath); got != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0:\n%s", got, logTail(logPath))
	}
}

// TestServeWithoutFile: `albedo serve`, the README's first command, serves
// ./albedo.yaml (here on test ports; without the file it is the embedded
// default on 127.0.0.1:8080, which tests must not take).
func TestServeWithoutFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := freeLoopbackAddr(t)
	cfg := fmt.Sprintf(`
admin: {address: %q}
listeners:
  - port: %s
    address: 127.0.0.1
    default_action:
      fixed_response: {status_code: 200, content_type: text/plain, message_body: "from ./albedo.yaml"}
`, freeLoopbackAddr(t), portOf(addr))
	if err := os.WriteFile(filepath.Join(dir, "albedo.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "albedo.log")
	c := startAlbedoIn(t, dir, nil, logPath, "serve")
	c.waitListening(t, addr, logPath)
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "from ./albedo.yaml" {
		t.Errorf("GET: %d %q", resp.StatusCode, body)
	}
	if out := waitLogContains(logPath, "serving albedo.yaml"); !strings.Contains(out, "serving albedo.yaml") {
		t.Errorf("start-up line does not name ./albedo.yaml:\n%s", out)
	}
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if got := c.exitCode(t, 30*time.Second, logPath); got != 0 {
		t.Errorf("exit status %d after SIGINT, want 0:\n%s", got, logTail(logPath))
	}
}

// waitLogContains returns the log once it holds s, or as it is after a
// while: the start-up summary follows the first listener's line, which
// waitListening waited for.
func waitLogContains(logPath, s string) string {
	deadline := time.Now().Add(bound(5 * time.Second))
	for time.Now().Before(deadline) {
		if out := logTail(logPath); strings.Contains(out, s) {
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
	return logTail(logPath)
}
