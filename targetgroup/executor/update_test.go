package executor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

func stage(t *testing.T, p *Pool, opts StageOptions, fns ...Function) *Update {
	t.Helper()
	u, err := p.Stage(context.Background(), fns, opts)
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	return u
}

// TestUpdateKeepsUnchanged: an unchanged function keeps its warm process;
// a changed one answers from a fresh environment with its new settings
// while the invocation it was running finishes on the old one, which then
// stops; an added one answers; a removed one leaves the listing at once.
func TestUpdateKeepsUnchanged(t *testing.T) {
	t.Parallel()
	keep, change, gone := behaveFn(t, "keep"), behaveFn(t, "change"), behaveFn(t, "gone")
	change.Environment = map[string]string{"VERSION": "1"}
	p, _ := newTestPool(t, Options{}, keep, change, gone)
	before := mustAnswer(t, invoke(t, p, "keep", `{}`))
	oldChange := mustAnswer(t, invoke(t, p, "change", `{"env":true}`))
	if oldChange.Env["VERSION"] != "1" {
		t.Fatalf("VERSION = %q", oldChange.Env["VERSION"])
	}
	// An invocation in flight on the old "change" across the Commit.
	slow := make(chan answer, 1)
	go func() { slow <- mustAnswer(t, invoke(t, p, "change", `{"sleep_ms":400,"env":true}`)) }()
	time.Sleep(100 * time.Millisecond)

	change2 := change
	change2.Environment = map[string]string{"VERSION": "2"}
	added := behaveFn(t, "added")
	u := stage(t, p, StageOptions{}, keep, change2, added)
	if !slices.Equal(u.Unchanged, []string{"keep"}) || !slices.Equal(u.Changed, []string{"change"}) ||
		!slices.Equal(u.Added, []string{"added"}) || !slices.Equal(u.Removed, []string{"gone"}) {
		t.Fatalf("update: added %v changed %v removed %v unchanged %v", u.Added, u.Changed, u.Removed, u.Unchanged)
	}
	// Staged, not committed: nothing changed yet.
	if a := mustAnswer(t, invoke(t, p, "change", `{"env":true}`)); a.Env["VERSION"] != "1" {
		t.Errorf("before Commit the function already runs VERSION=%s", a.Env["VERSION"])
	}
	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	after := mustAnswer(t, invoke(t, p, "keep", `{}`))
	if after.PID != before.PID {
		t.Errorf("the unchanged function moved from pid %d to %d", before.PID, after.PID)
	}
	newChange := mustAnswer(t, invoke(t, p, "change", `{"env":true}`))
	if newChange.Env["VERSION"] != "2" || newChange.PID == oldChange.PID {
		t.Errorf("changed function: VERSION=%s pid %d (old pid %d)", newChange.Env["VERSION"], newChange.PID, oldChange.PID)
	}
	inflight := <-slow
	if inflight.Env["VERSION"] != "1" {
		t.Errorf("the invocation in flight at Commit ran VERSION=%s, want the old 1", inflight.Env["VERSION"])
	}
	mustAnswer(t, invoke(t, p, "added", `{}`))
	if _, ok := p.Function("gone"); ok {
		t.Error("the removed function is still listed")
	}
	names := []string{}
	for _, f := range p.Functions() {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"added", "change", "keep"}) {
		t.Errorf("Functions() = %v", names)
	}
	// The old environments of "change" stop (idle at once, busy after
	// their invocation): every process of VERSION=1 goes.
	for _, pid := range []int{oldChange.PID, inflight.PID} {
		waitGone(t, pid)
	}
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); processAlive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs 5 s after its function changed", pid)
		}
	}
}

// TestUpdateRemovedGrace: a removed function answers by name for
// RemovedGrace (requests already routed to it), and no longer after.
func TestUpdateRemovedGrace(t *testing.T) {
	t.Parallel()
	a, b := behaveFn(t, "a"), behaveFn(t, "b")
	p, _ := newTestPool(t, Options{}, a, b)
	if err := stage(t, p, StageOptions{}, a).Commit(); err != nil {
		t.Fatal(err)
	}
	mustAnswer(t, invoke(t, p, "b", `{}`))
	set := p.set.Load()
	r := set.removed["b"]
	r.until = time.Now().Add(-time.Millisecond)
	set.removed["b"] = r
	if _, err := p.Invoke(context.Background(), Request{Function: "b", Payload: []byte(`{}`)}); !errors.Is(err, ErrFunctionNotFound) {
		t.Errorf("after the grace: %v, want ErrFunctionNotFound", err)
	}
}

// TestUpdateRefreshAndBuild: Refresh rebuilds and restarts a function
// whose settings did not change; a failed build returns the BuildError
// and leaves the old code serving; a stale update is refused.
func TestUpdateRefreshAndBuild(t *testing.T) {
	t.Parallel()
	behave := filepath.Join(exectest.Build(t, "behave"), "bootstrap")
	fn := behaveFn(t, "built")
	fn.Code = t.TempDir()
	script := filepath.Join(fn.Code, "build.sh")
	writeScript := func(body string) {
		t.Helper()
		if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeScript("echo build one >> builds.txt; ln -sf " + behave + " bootstrap\n")
	fn.Build = []string{"sh", script}
	p, flog := newTestPool(t, Options{}, fn)
	if err := p.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := mustAnswer(t, invoke(t, p, "built", `{}`))

	// Same settings: nothing to do, no build.
	if u := stage(t, p, StageOptions{}, fn); len(u.Changed) != 0 {
		t.Errorf("unchanged settings staged as changed: %v", u.Changed)
	} else if _, built := u.Built("built"); built {
		t.Error("unchanged function rebuilt")
	} else {
		u.Discard()
	}

	// A failed build: Stage fails, the old environment keeps serving.
	writeScript("echo main.go:3: syntax error; exit 2\n")
	_, err := p.Stage(context.Background(), []Function{fn}, StageOptions{Refresh: []string{"built"}})
	var be *BuildError
	if !errors.As(err, &be) || !strings.Contains(string(be.Output), "main.go:3: syntax error") {
		t.Fatalf("Stage with a failing build = %v, want the BuildError", err)
	}
	if !strings.Contains(flog.String(), "main.go:3: syntax error") {
		t.Errorf("the compiler output is not in the function log:\n%s", flog)
	}
	if a := mustAnswer(t, invoke(t, p, "built", `{}`)); a.PID != first.PID {
		t.Errorf("after a failed build the function moved to pid %d (was %d)", a.PID, first.PID)
	}

	// Fixed: the refresh builds and the next invocation runs in a fresh
	// environment.
	writeScript("echo build two >> builds.txt; ln -sf " + behave + " bootstrap\n")
	u := stage(t, p, StageOptions{Refresh: []string{"built"}}, fn)
	if d, built := u.Built("built"); !built || d <= 0 || !slices.Equal(u.Changed, []string{"built"}) {
		t.Fatalf("refresh: built %v changed %v", built, u.Changed)
	}
	stale := stage(t, p, StageOptions{}, fn)
	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := stale.Commit(); !errors.Is(err, ErrStale) {
		t.Errorf("a second update staged against the old set: %v, want ErrStale", err)
	}
	if a := mustAnswer(t, invoke(t, p, "built", `{}`)); a.PID == first.PID {
		t.Error("a refreshed function still runs in its old environment")
	}
	if b, _ := os.ReadFile(filepath.Join(fn.Code, "builds.txt")); string(b) != "build one\nbuild two\n" {
		t.Errorf("builds: %q", b)
	}
}

// TestWarm: Warm starts an environment that the next invocation uses,
// and reports an init failure.
func TestWarm(t *testing.T) {
	t.Parallel()
	ok, bad := behaveFn(t, "ok"), behaveFn(t, "bad")
	bad.Environment = map[string]string{"BEHAVE_INIT_FAIL": "error"}
	p, _ := newTestPool(t, Options{}, ok, bad)
	d, err := p.Warm(context.Background(), "ok")
	if err != nil || d <= 0 {
		t.Fatalf("Warm = %v, %v", d, err)
	}
	if p.Live("ok") != 1 || p.Stats().ColdStarts != 1 {
		t.Fatalf("after Warm: %d live, %d cold starts", p.Live("ok"), p.Stats().ColdStarts)
	}
	invoke(t, p, "ok", `{}`)
	if s := p.Stats(); s.ColdStarts != 1 {
		t.Errorf("the invocation after Warm cold-started (%d cold starts)", s.ColdStarts)
	}
	if _, err := p.Warm(context.Background(), "bad"); err == nil || !strings.Contains(err.Error(), "Runtime.BehaveInitError") {
		t.Errorf("Warm of a failing init = %v", err)
	}
}
