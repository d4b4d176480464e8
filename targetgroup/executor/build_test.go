package executor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

func TestBuild(t *testing.T) {
	t.Parallel()
	behave := filepath.Join(exectest.Build(t, "behave"), "bootstrap")
	tests := []struct {
		name      string
		script    string
		wantErr   string // substring of the *BuildError; "" = success
		wantLines string // in the function log
	}{
		{name: "success", script: "echo building; echo x >> built.txt; ln -sf " + behave + " bootstrap", wantLines: "building\n"},
		{name: "failure", script: "echo compile error on line 3; exit 3", wantErr: "compile error on line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn := behaveFn(t, "built")
			fn.Code = t.TempDir()
			fn.Build = []string{"sh", "-c", tt.script}
			p, flog := newTestPool(t, Options{}, fn)
			for range 2 { // once only
				err := p.Prepare(context.Background())
				var be *BuildError
				if tt.wantErr == "" {
					if err != nil {
						t.Fatalf("Prepare: %v", err)
					}
					continue
				}
				if !errors.As(err, &be) || be.Function != "built" || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "sh -c") {
					t.Fatalf("Prepare error = %v, want BuildError with %q", err, tt.wantErr)
				}
			}
			_, err := p.Invoke(context.Background(), Request{Function: "built", Payload: []byte(`{}`)})
			if tt.wantErr != "" {
				var be *BuildError
				if !errors.As(err, &be) {
					t.Errorf("Invoke error = %v, want the BuildError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(filepath.Join(fn.Code, "built.txt")); string(b) != "x\n" {
				t.Errorf("build ran %d times, want once", strings.Count(string(b), "x"))
			}
			if !strings.Contains(flog.String(), tt.wantLines) {
				t.Errorf("function log lacks build output %q:\n%s", tt.wantLines, flog)
			}
		})
	}
}

func TestBuiltinRuntime(t *testing.T) {
	t.Parallel()
	fn := behaveFn(t, "bi")
	bootstrap := filepath.Join(fn.Code, "bootstrap")
	fn.Runtime, fn.Code, fn.Handler = "builtin", "", "my.handler"
	p, _ := newTestPool(t, Options{BuiltinCommand: []string{bootstrap, "run-builtin"}}, fn)
	a := mustAnswer(t, invoke(t, p, "bi", `{"env":true}`))
	cwd, _ := os.Getwd()
	if a.Env["_HANDLER"] != "my.handler" || a.Env["LAMBDA_TASK_ROOT"] != cwd {
		t.Errorf("_HANDLER=%q LAMBDA_TASK_ROOT=%q", a.Env["_HANDLER"], a.Env["LAMBDA_TASK_ROOT"])
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(a.PID) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"); len(got) != 3 || got[1] != "run-builtin" || got[2] != "my.handler" {
		t.Errorf("argv = %q, want BuiltinCommand + handler", got)
	}
}

// TestBuildCancel: cancelling Prepare's context (albedo serve got SIGINT
// during start-up) kills the whole build, children that hold its output
// pipe included, and Prepare returns at once. Before, only the direct child
// was killed and Prepare waited for the grandchild (here 60 s).
func TestBuildCancel(t *testing.T) {
	t.Parallel()
	fn := behaveFn(t, "slow")
	fn.Code = t.TempDir()
	pidFile := filepath.Join(fn.Code, "sleep.pid")
	fn.Build = []string{"sh", "-c", "sleep 60 & echo $! > sleep.pid.tmp; mv sleep.pid.tmp sleep.pid; wait"}
	p, _ := newTestPool(t, Options{}, fn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Prepare(ctx) }()
	var pid int
	for deadline := time.Now().Add(10 * time.Second); pid == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the build did not start its sleep")
		}
		if b, err := os.ReadFile(pidFile); err == nil {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Prepare = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Prepare did not return within 5 s of the cancel")
	}
	for deadline := time.Now().Add(2 * time.Second); processAlive(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the build's child %d still runs after the cancel", pid)
		}
	}
}
