package executor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// localRuntime is exectest.LocalRuntime.
func localRuntime(t testing.TB, lang string) string {
	t.Helper()
	return exectest.LocalRuntime(t, lang)
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
