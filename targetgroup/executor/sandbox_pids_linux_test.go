package executor

import (
	"os"
	"strings"
	"testing"
	"time"
)

// With a pids controller an environment holds at most maxProcesses
// processes and threads, Lambda's quota: past it the function's fork
// fails, and the next invocation in the same environment still runs.
func TestProcessLimit(t *testing.T) {
	fn := behaveFn(t, "forky")
	fn.MemorySize = 2048 // the children's memory must not end it first
	fn.Timeout = time.Minute
	p, _ := newTestPool(t, Options{}, fn)
	requireCgroups(t, p)
	if _, err := os.Stat("/sys/fs/cgroup/pids"); err != nil && !strings.Contains(p.Isolation(), "pids") {
		t.Skipf("no pids controller: isolation is %s", p.Isolation())
	}
	a := mustAnswer(t, invoke(t, p, "forky", `{"spawn_many":1100}`))
	t.Logf("started %d children, then: %s", a.Spawned, a.SpawnError)
	if a.Spawned >= maxProcesses || a.SpawnError == "" {
		t.Fatalf("started %d of 1,100 children (error %q), want fewer than %d", a.Spawned, a.SpawnError, maxProcesses)
	}
	if a.Spawned < maxProcesses-64 {
		t.Errorf("started only %d children: the limit should be near %d (the runtime's own threads aside)", a.Spawned, maxProcesses)
	}
	if !strings.Contains(a.SpawnError, "resource temporarily unavailable") {
		t.Errorf("spawn error %q, want EAGAIN", a.SpawnError)
	}
	if b := mustAnswer(t, invoke(t, p, "forky", `{}`)); b.PID != a.PID {
		t.Errorf("the environment was replaced (pid %d, then %d)", a.PID, b.PID)
	}
}
