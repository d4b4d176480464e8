package executor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// extensionLayer is a layer whose extensions directory holds the test
// extension under name.
func extensionLayer(t testing.TB, name string) string {
	t.Helper()
	ext := exectest.Build(t, "extension")
	layer := t.TempDir()
	if err := os.MkdirAll(filepath.Join(layer, "extensions"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(ext, "bootstrap"), filepath.Join(layer, "extensions", name)); err != nil {
		t.Fatal(err)
	}
	return layer
}

func TestExternalExtensions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mode      string // TEST_EXTENSION_MODE
		wantError string // ErrorType of the first invocation, "" = success
		wantLog   []string
	}{
		{name: "registers, gets SHUTDOWN", wantLog: []string{
			"[test-ext] registered 200",
			"EXTENSION\tName: test-ext\tState: Ready\tEvents: [SHUTDOWN]\n",
			"[test-ext] event SHUTDOWN spindown",
		}},
		{name: "exits before registering", mode: "exit", wantError: ErrorTypeExtensionCrash,
			wantLog: []string{"Error: extension test-ext exited before it registered: exit status 3"}},
		{name: "init error", mode: "init-error", wantError: "Extension.TestFailure",
			wantLog: []string{"Error Type: Extension.TestFailure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn := behaveFn(t, "ext")
			fn.Layers = []string{extensionLayer(t, "test-ext")}
			fn.Environment = map[string]string{"TEST_EXTENSION_MODE": tt.mode}
			p, flog := newTestPool(t, Options{}, fn)
			resp := invoke(t, p, "ext", `{}`)
			if resp.ErrorType != tt.wantError || (tt.wantError == "") != (resp.FunctionError == "") {
				t.Fatalf("ErrorType %q FunctionError %q (%s), want %q", resp.ErrorType, resp.FunctionError, resp.Payload, tt.wantError)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := p.Close(ctx); err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.wantLog {
				if !strings.Contains(flog.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, flog.String())
				}
			}
			// The EXTENSION line comes right before START.
			if tt.wantError == "" && !strings.Contains(flog.String(), "Events: [SHUTDOWN]\nSTART RequestId: ") {
				t.Errorf("EXTENSION line not right before START:\n%s", flog.String())
			}
		})
	}
}

// TestExtensionCrashResetsEnvironment: an extension that exits after init
// takes its environment with it; the next invocation gets a new one.
func TestExtensionCrashResetsEnvironment(t *testing.T) {
	t.Parallel()
	fn := behaveFn(t, "crash")
	fn.Layers = []string{extensionLayer(t, "test-ext")}
	fn.Environment = map[string]string{"TEST_EXTENSION_MODE": "crash-later"}
	p, flog := newTestPool(t, Options{}, fn)
	first := mustAnswer(t, invoke(t, p, "crash", `{}`))
	deadline := time.Now().Add(10 * time.Second)
	for p.Stats().Live > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if p.Stats().Live != 0 {
		t.Fatalf("environment still alive after its extension exited:\n%s", flog.String())
	}
	second := mustAnswer(t, invoke(t, p, "crash", `{}`))
	if first.PID == second.PID {
		t.Errorf("same runtime pid %d after the extension crashed", first.PID)
	}
}

// TestExtensionNotExecutable: a file in extensions/ that cannot run fails
// init with Extension.LaunchError.
func TestExtensionNotExecutable(t *testing.T) {
	t.Parallel()
	layer := t.TempDir()
	writeTree(t, layer, map[string]string{"extensions/notes": "not a program"})
	fn := behaveFn(t, "noexec")
	fn.Layers = []string{layer}
	p, _ := newTestPool(t, Options{}, fn)
	resp := invoke(t, p, "noexec", `{}`)
	if resp.ErrorType != ErrorTypeExtensionLaunch || !strings.Contains(string(resp.Payload), "permission denied") {
		t.Errorf("ErrorType %q payload %s, want %s with permission denied", resp.ErrorType, resp.Payload, ErrorTypeExtensionLaunch)
	}
	if s := p.Stats(); s.Live != 0 || s.InitFailures != 1 {
		t.Errorf("stats %+v, want no live environment and one init failure", s)
	}
}
