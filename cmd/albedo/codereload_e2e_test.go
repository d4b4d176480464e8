package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// codeReloadRig is `albedo serve -watch` serving one function at /.
type codeReloadRig struct {
	t       *testing.T
	dir     string
	code    string // the function's code directory
	base    string // http://127.0.0.1:PORT
	logPath string
}

// startCodeReload writes a config serving fn (a YAML function entry with
// code: {{code}}) and starts albedo serve with the flags.
func startCodeReload(t *testing.T, code, fn string, flags ...string) *codeReloadRig {
	t.Helper()
	if testing.Short() {
		t.Skip("starts albedo as a child process")
	}
	dir := t.TempDir()
	listen := freeLoopbackAddr(t)
	_, port, _ := strings.Cut(listen, ":")
	cfg := fmt.Sprintf(`state_dir: %s
admin: {address: %s}
listeners:
  - {port: %s, address: 127.0.0.1, default_action: {forward: {target_group: fn}}}
target_groups:
  - {name: fn, targets: [fn]}
functions:
%s    policy: [{sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}]
`, filepath.Join(dir, "state"), freeLoopbackAddr(t), port, strings.ReplaceAll(fn, "{{code}}", fmt.Sprintf("%q", code)))
	cfgPath := filepath.Join(dir, "albedo.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &codeReloadRig{t: t, dir: dir, code: code, base: "http://" + listen, logPath: filepath.Join(dir, "albedo.log")}
	c := startAlbedoChild(t, cfgPath, r.logPath, append([]string{"-watch"}, flags...)...)
	c.waitListening(t, listen, r.logPath)
	t.Cleanup(func() {
		if b, _ := os.ReadFile(r.logPath); strings.Contains(string(b), "WARNING: DATA RACE") {
			t.Error("the race detector reported a race in albedo (go test -race)")
		}
		if t.Failed() {
			b, _ := os.ReadFile(r.logPath)
			var keep []string // albedo's lines, not the invocations'
			for _, l := range strings.Split(string(b), "\n") {
				if !strings.Contains(l, " RequestId: ") {
					keep = append(keep, l)
				}
			}
			t.Logf("albedo log without START/END/REPORT:\n%s", strings.Join(keep, "\n"))
		}
	})
	r.waitLog(" serving ") // the sockets are bound before the build: wait for start-up's end
	return r
}

// body is GET / 's body; it fails the test on a transport error or a
// status other than 200.
func (r *codeReloadRig) body() string {
	r.t.Helper()
	code, body, err := get(r.t, r.base+"/")
	if err != nil || code != 200 {
		r.t.Fatalf("GET /: %d %q %v", code, body, err)
	}
	return body
}

// waitBody polls GET / until its body starts with prefix and returns how
// long after since that was; it fails the test after 10 s.
func (r *codeReloadRig) waitBody(prefix string, since time.Time) time.Duration {
	r.t.Helper()
	for deadline := since.Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if strings.HasPrefix(r.body(), prefix) {
			return time.Since(since)
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("still not %q 10 s after the change; now %q", prefix, r.body())
		}
	}
}

func (r *codeReloadRig) waitLog(substr string) {
	r.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(r.logPath)
		if strings.Contains(string(b), substr) {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the log has no %q after 30 s", substr)
		}
	}
}

func writeFile(t *testing.T, path, content string) time.Time {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return time.Now()
}

// TestServeCodeReloadNode: a Node.js handler's new return value is served
// within 1 s of the save, with file events and with -watch-poll; the
// reload line names the function and the file; editor swap files and the
// like change nothing.
func TestServeCodeReloadNode(t *testing.T) {
	runtime := exectest.LocalRuntime(t, "node")
	for _, mode := range []struct {
		name  string
		flags []string
	}{{"events", nil}, {"poll", []string{"-watch-poll"}}} {
		t.Run(mode.name, func(t *testing.T) {
			code := t.TempDir()
			handler := func(v string) string {
				return "exports.handler = async () => ({statusCode: 200, body: '" + v + " ' + process.pid});\n"
			}
			writeFile(t, filepath.Join(code, "index.js"), handler("one"))
			r := startCodeReload(t, code, fmt.Sprintf("  - name: fn\n    runtime: %s\n    handler: index.handler\n    code: {{code}}\n", runtime), mode.flags...)
			if got := r.body(); !strings.HasPrefix(got, "one ") {
				t.Fatalf("before: %q", got)
			}
			writeFile(t, filepath.Join(code, ".index.js.swp"), "vim swap")
			writeFile(t, filepath.Join(code, "index.js~"), "backup")
			time.Sleep(700 * time.Millisecond) // a poll or two
			if b, _ := os.ReadFile(r.logPath); strings.Contains(string(b), "function reloaded") {
				t.Fatal("an editor's swap or backup file reloaded the function")
			}
			d := r.waitBody("two ", writeFile(t, filepath.Join(code, "index.js"), handler("two")))
			t.Logf("%s: the new value was served %s after the save", mode.name, d.Round(time.Millisecond))
			// Polling sees the save at its next scan, up to 500 ms later.
			if limit := bound(time.Second + time.Duration(len(mode.flags))*500*time.Millisecond); d > limit {
				t.Errorf("the new value took %s, want within %s", d, limit)
			}
			r.waitLog(`msg="function reloaded" function=fn changed=index.js`)
		})
	}
}

// TestServeCodeReloadGoBuild: a Go function with a build command. A change
// that does not compile keeps the old code serving, in its process, and
// the compiler's output is in the log; the fixed code is built and served;
// the build's own output (bootstrap) does not reload it again.
func TestServeCodeReloadGoBuild(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", "testdata", "functions", "reload-go"))
	if err != nil {
		t.Fatal(err)
	}
	code := t.TempDir()
	var src string
	for _, name := range []string{"main.go", "go.mod"} {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "main.go" {
			src = string(b)
		}
		writeFile(t, filepath.Join(code, name), string(b))
	}
	r := startCodeReload(t, code, "  - name: fn\n    runtime: provided.al2023\n    code: {{code}}\n    build: [go, build, -o, bootstrap, .]\n")
	before := r.body()
	if !strings.HasPrefix(before, "one ") {
		t.Fatalf("before: %q", before)
	}
	writeFile(t, filepath.Join(code, "main.go"), strings.Replace(src, `const answer = "one"`, `const answer = "one`, 1))
	r.waitLog("function reload failed: its previous code keeps serving")
	r.waitLog("newline in string") // the compiler's own words
	if got := r.body(); got != before {
		t.Errorf("after a failed build: %q, want the old %q (same process)", got, before)
	}
	fixed := writeFile(t, filepath.Join(code, "main.go"), strings.Replace(src, `const answer = "one"`, `const answer = "two"`, 1))
	t.Logf("built and served %s after the fix", r.waitBody("two ", fixed).Round(time.Millisecond))
	r.waitLog(`msg="function reloaded" function=fn changed=main.go build_ms=`)
	time.Sleep(time.Second)
	if b, _ := os.ReadFile(r.logPath); strings.Count(string(b), `msg="function reloaded"`) != 1 {
		t.Errorf("want one reload line, the build's output must not trigger another:\n%s", logTail(r.logPath))
	}
}
