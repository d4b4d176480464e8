// Package exectest builds the executor's test functions for tests in any
// package: Build compiles targetgroup/executor/testfunctions/<name> into a
// bootstrap binary, cached between test processes.
//
// The cache lives in os.TempDir()/albedo-exectest, keyed by a hash of the
// function's sources, the module's go.mod and go.sum, and the Go version of
// the test binary. A build goes to a temporary file that is renamed into
// place, so concurrent test processes never see a half-written binary;
// within one process, a name is built at most once.
package exectest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	built = map[string]*result{}
)

type result struct {
	once sync.Once
	dir  string
	err  error
}

// Build compiles testfunctions/name to a file named bootstrap and returns
// the directory that contains it. It fails tb when the build fails.
func Build(tb testing.TB, name string) string {
	tb.Helper()
	mu.Lock()
	r, ok := built[name]
	if !ok {
		r = &result{}
		built[name] = r
	}
	mu.Unlock()
	r.once.Do(func() { r.dir, r.err = build(name) })
	if r.err != nil {
		tb.Fatalf("exectest: build %s: %v", name, r.err)
	}
	return r.dir
}

// sourceDir is the testfunctions directory, found from this file's path.
func sourceDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("exectest: cannot locate source directory")
	}
	return filepath.Join(filepath.Dir(file), "..", "testfunctions"), nil
}

func build(name string) (string, error) {
	root, err := sourceDir()
	if err != nil {
		return "", err
	}
	src := filepath.Join(root, name)
	key, err := hashSources(src, filepath.Join(root, "..", "..", "..", "go.mod"), filepath.Join(root, "..", "..", "..", "go.sum"))
	if err != nil {
		return "", err
	}
	dir := filepath.Join(os.TempDir(), "albedo-exectest", name+"-"+key[:16])
	out := filepath.Join(dir, "bootstrap")
	if fi, err := os.Stat(out); err == nil && fi.Mode().IsRegular() {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "bootstrap-*.tmp")
	if err != nil {
		return "", err
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)
	// The go command of the toolchain running the tests: its GOROOT is
	// in the test binary's environment when go test runs it, else PATH.
	gobin, err := exec.LookPath("go")
	if root := os.Getenv("GOROOT"); err != nil && root != "" {
		gobin = filepath.Join(root, "bin", "go")
	}
	cmd := exec.Command(gobin, "build", "-trimpath", "-o", tmpName, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, b)
	}
	if err := os.Rename(tmpName, out); err != nil {
		return "", err
	}
	return dir, nil
}

// hashSources hashes every regular file under dir plus the extra files,
// and the Go version.
func hashSources(dir string, extra ...string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && filepath.Base(path) != "bootstrap" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	files = append(files, extra...)
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
