package executor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// localRuntime is the runtime name matching the interpreter on PATH
// ("nodejs20.x", "python3.11"); the test is skipped when there is none.
func localRuntime(t testing.TB, lang string) string {
	t.Helper()
	var cmd *exec.Cmd
	switch lang {
	case "node":
		cmd = exec.Command("node", "-p", "process.versions.node.split('.')[0]")
	case "python":
		cmd = exec.Command("python3", "-c", "import sys; print(sys.version_info[1])")
	}
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("no %s interpreter on PATH (%v): install it to run this test", lang, err)
	}
	v := strings.TrimSpace(string(out))
	if _, err := strconv.Atoi(v); err != nil {
		t.Skipf("%s reports version %q", lang, v)
	}
	if lang == "node" {
		return "nodejs" + v + ".x"
	}
	return "python3." + v
}

// writeTree writes files (relative path -> content) under dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// managedFn is a Function of a managed runtime whose code is files.
func managedFn(t testing.TB, name, runtime, handler string, files map[string]string) Function {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, files)
	return Function{
		Name:       name,
		ARN:        "arn:aws:lambda:us-east-1:123456789012:function:" + name,
		Runtime:    runtime,
		Handler:    handler,
		Code:       dir,
		MemorySize: 256,
		Timeout:    5 * time.Second,
		Reserved:   -1,
		Region:     "us-east-1",
	}
}
