package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

const sandboxConfig = `
state_dir: %q
admin:
  address: %q
functions:
  - name: behave
    runtime: provided.al2023
    code: %q
    timeout: 30
`

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

// TestServeKilledLeavesNoSandbox: a function's setsid'd child outlives a
// SIGKILLed albedo (nothing of albedo runs to stop it), and is gone once
// the next albedo with the same state_dir has started, which says how many
// processes it ended.
func TestServeKilledLeavesNoSandbox(t *testing.T) {
	t.Parallel()
	sb := startSandboxAlbedo(t)
	cfgPath, logPath := sb.cfgPath, sb.logPath
	a := sb.invoke(t, `{"spawn":"setsid"}`)
	sb.first.kill()
	deadline := time.Now().Add(10 * time.Second)
	for alive(a.PID) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !alive(a.ChildPID) {
		t.Fatalf("the setsid'd child %d died with albedo already: the test shows nothing", a.ChildPID)
	}

	second := startAlbedoChild(t, cfgPath, logPath)
	second.waitListening(t, sb.admin, logPath) // bound first: start-up goes on
	sb.waitSecond(t, second, deadline.Add(30*time.Second))
	if alive(a.ChildPID) {
		t.Errorf("the setsid'd child %d of the killed albedo still runs after the next one started", a.ChildPID)
	}
	if !regexp.MustCompile(`left behind.* cgroups=1 processes_ended=1`).MatchString(logTail(logPath)) {
		t.Errorf("start-up log lacks the count of ended processes:\n%s", logTail(logPath))
	}
	sb.interrupt(t, second)
}

// sandboxAlbedo is an albedo child serving the behave function on its
// admin address alone, in cgroups (tests skip without them).
type sandboxAlbedo struct {
	admin, cfgPath, logPath string
	first                   *childAlbedo
}

func startSandboxAlbedo(t *testing.T) *sandboxAlbedo {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("cgroups are Linux only")
	}
	if testing.Short() {
		t.Skip("starts albedo twice as a child process")
	}
	dir := t.TempDir()
	sb := &sandboxAlbedo{admin: freeLoopbackAddr(t), cfgPath: filepath.Join(dir, "albedo.yaml"), logPath: filepath.Join(dir, "albedo.log")}
	cfg := fmt.Sprintf(sandboxConfig, filepath.Join(dir, "state"), sb.admin, exectest.Build(t, "behave"))
	if err := os.WriteFile(sb.cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	sb.first = startAlbedoChild(t, sb.cfgPath, sb.logPath)
	sb.first.waitListening(t, sb.admin, sb.logPath)
	if strings.Contains(logTail(sb.logPath), "isolation: process groups") {
		t.Skipf("needs cgroups; this machine gives none:\n%s", logTail(sb.logPath))
	}
	return sb
}

// behaveChild is what invoke learnt: the runtime's pid and the child it
// started.
type behaveChild struct {
	PID      int `json:"pid"`
	ChildPID int `json:"child_pid"`
}

// invoke sends event to behave through the Invoke API; it must start a
// child.
func (sb *sandboxAlbedo) invoke(t *testing.T, event string) behaveChild {
	t.Helper()
	resp, err := http.Post("http://"+sb.admin+"/2015-03-31/functions/behave/invocations", "application/json", strings.NewReader(event))
	if err != nil {
		t.Fatal(err)
	}
	var a behaveChild
	err = json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if err != nil || a.ChildPID == 0 {
		t.Fatalf("invoke: %v %+v\n%s", err, a, logTail(sb.logPath))
	}
	return a
}

// waitSecond waits until second, started after sb.first on the same log,
// says it serves, failing t when it exits first or after deadline.
func (sb *sandboxAlbedo) waitSecond(t *testing.T, second *childAlbedo, deadline time.Time) {
	t.Helper()
	for strings.Count(logTail(sb.logPath), " serving ") < 2 {
		if second.exited() || time.Now().After(deadline) {
			t.Fatalf("second albedo did not start:\n%s", logTail(sb.logPath))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// interrupt stops c with SIGINT; it must exit 0.
func (sb *sandboxAlbedo) interrupt(t *testing.T, c *childAlbedo) {
	t.Helper()
	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := c.exitCode(t, 20*time.Second, sb.logPath); code != 0 {
		t.Errorf("albedo exited %d:\n%s", code, logTail(sb.logPath))
	}
}
