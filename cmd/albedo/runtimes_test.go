package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateInterpreters: validate (and serve, through the same check)
// reports an interpreter older than its runtime as an error at the
// runtimes entry, and a newer one as a warning, each with the path found
// and the version it reports.
func TestValidateInterpreters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fake := func(name, version string) {
		script := "#!/bin/sh\nprintf '" + version + "\\n/opt/" + name + "/bin/interp'\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fake("node18", "18.19.0")
	fake("py313", "3.13.1")
	os.MkdirAll(filepath.Join(dir, "code"), 0o755)
	os.WriteFile(filepath.Join(dir, "code", "index.js"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "code", "app.py"), nil, 0o644)
	cfg := `runtimes:
  nodejs20.x: ./node18
  python3.12: ./py313
functions:
  - {name: n, runtime: nodejs20.x, handler: index.handler, code: ./code}
  - {name: p, runtime: python3.12, handler: app.handler, code: ./code}
`
	path := filepath.Join(dir, "albedo.yaml")
	os.WriteFile(path, []byte(cfg), 0o644)
	for _, cmd := range []string{"validate", "serve"} {
		var stdout, stderr bytes.Buffer
		var code int
		if cmd == "serve" {
			code = serve(context.Background(), []string{"-config", path}, &stdout, &stderr)
		} else {
			code = run([]string{cmd, "-config", path}, &stdout, &stderr)
		}
		if code != 2 {
			t.Errorf("%s: exit %d, want 2\n%s", cmd, code, &stderr)
		}
		for _, want := range []string{
			path + ":2:15: runtimes.nodejs20.x: " + filepath.Join(dir, "node18") + " is Node.js 18.19.0, older than nodejs20.x (Node.js 20)",
			path + ":3:15: runtimes.python3.12: warning: " + filepath.Join(dir, "py313") + " is Python 3.13.1, newer than python3.12: functions run on Python 3.13, not 3.12 as on Lambda",
		} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("%s: stderr lacks %q:\n%s", cmd, want, &stderr)
			}
		}
	}
}
