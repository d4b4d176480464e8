package executor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

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
