package watch

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// modes runs a test with file events and with polling.
var modes = []struct {
	name string
	poll bool
}{{"events", false}, {"poll", true}}

func newWatcher(t *testing.T, poll bool, targets ...Target) *Watcher {
	t.Helper()
	w := New(Options{Poll: poll, PollInterval: 50 * time.Millisecond, Debounce: 50 * time.Millisecond})
	t.Cleanup(func() { w.Close() })
	w.Set(targets)
	return w
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// next waits (bounded) for the next Change.
func next(t *testing.T, w *Watcher) Change {
	t.Helper()
	select {
	case c := <-w.Changes():
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no change reported within 5 s")
		return Change{}
	}
}

// quiet fails when a Change arrives within d.
func quiet(t *testing.T, w *Watcher, d time.Duration) {
	t.Helper()
	select {
	case c := <-w.Changes():
		t.Fatalf("unexpected change %+v", c)
	case <-time.After(d):
	}
}

// settle gives a poller a scan before the test writes, so the write is a
// change and not the initial state.
func settle() { time.Sleep(120 * time.Millisecond) }

func TestFileTarget(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "albedo.yaml")
			write(t, cfg, "a")
			w := newWatcher(t, m.poll, Target{Name: "config", Files: []string{cfg}})
			settle()

			write(t, filepath.Join(dir, "other.yaml"), "x") // same directory, not the file
			quiet(t, w, 300*time.Millisecond)

			write(t, cfg, "bb")
			if c := next(t, w); c.Target != "config" || !slices.Equal(c.Paths, []string{cfg}) {
				t.Errorf("write: %+v", c)
			}
			// An editor that saves by rename: a new file moved over the old.
			tmp := filepath.Join(dir, ".albedo.yaml.tmp")
			write(t, tmp, "ccc")
			if err := os.Rename(tmp, cfg); err != nil {
				t.Fatal(err)
			}
			if c := next(t, w); c.Target != "config" || !slices.Contains(c.Paths, cfg) {
				t.Errorf("rename: %+v", c)
			}
		})
	}
}

func TestTreeTarget(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			code := t.TempDir()
			write(t, filepath.Join(code, "index.js"), "1")
			w := newWatcher(t, m.poll, Target{Name: "fn", Trees: []string{code},
				Ignore: func(p string) bool { return p == filepath.Join(code, "bootstrap") }})
			settle()

			// Never code: each on its own is ignored.
			for _, p := range []string{".git/index", "__pycache__/app.cpython-311.pyc", "lib/x.pyc",
				".index.js.swp", "index.js~", "4913", ".#index.js", "#index.js#", "bootstrap"} {
				write(t, filepath.Join(code, p), "x")
			}
			quiet(t, w, 400*time.Millisecond)

			// A new directory and a file in it, and a nested edit.
			write(t, filepath.Join(code, "src", "deep", "app.js"), "2")
			c := next(t, w)
			if c.Target != "fn" || !slices.Contains(c.Paths, filepath.Join(code, "src", "deep", "app.js")) {
				t.Errorf("new nested file: %+v", c)
			}
			settle()
			write(t, filepath.Join(code, "src", "deep", "app.js"), "33")
			if c := next(t, w); !slices.Equal(c.Paths, []string{filepath.Join(code, "src", "deep", "app.js")}) {
				t.Errorf("edit in a new directory: %+v", c)
			}
		})
	}
}

// TestDebounce: a burst of writes is one Change.
func TestDebounce(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			code := t.TempDir()
			w := newWatcher(t, m.poll, Target{Name: "fn", Trees: []string{code}})
			settle()
			for i := range 5 {
				write(t, filepath.Join(code, "f"+string(rune('a'+i))+".js"), "x")
				time.Sleep(5 * time.Millisecond)
			}
			c := next(t, w)
			if len(c.Paths) != 5 {
				t.Errorf("one change with 5 paths wanted, got %+v", c)
			}
			quiet(t, w, 300*time.Millisecond)
		})
	}
}

// TestHold: what is written below a held directory (a build's outputs)
// is no change; after the release, edits are again.
func TestHold(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			code := t.TempDir()
			write(t, filepath.Join(code, "main.go"), "package main")
			w := newWatcher(t, m.poll, Target{Name: "fn", Trees: []string{code}})
			settle()
			release := w.Hold(code)
			write(t, filepath.Join(code, "bootstrap"), "binary")
			write(t, filepath.Join(code, "dist", "out.js"), "built")
			time.Sleep(150 * time.Millisecond)
			release()
			quiet(t, w, 400*time.Millisecond)
			write(t, filepath.Join(code, "main.go"), "package main // edited")
			if c := next(t, w); !slices.Equal(c.Paths, []string{filepath.Join(code, "main.go")}) {
				t.Errorf("after the hold: %+v", c)
			}
		})
	}
}

// TestSetReplaces: a target left out of Set is no longer reported; one
// kept keeps being reported, changes while Set runs included.
func TestSetReplaces(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			a, b := t.TempDir(), t.TempDir()
			w := newWatcher(t, m.poll, Target{Name: "a", Trees: []string{a}}, Target{Name: "b", Trees: []string{b}})
			settle()
			w.Set([]Target{{Name: "b", Trees: []string{b}}})
			write(t, filepath.Join(a, "x.js"), "x")
			quiet(t, w, 300*time.Millisecond)
			write(t, filepath.Join(b, "y.js"), "y")
			if c := next(t, w); c.Target != "b" {
				t.Errorf("got %+v, want b", c)
			}
		})
	}
}

// TestQueued: changes made while nobody reads Changes are kept, merged
// per target.
func TestQueued(t *testing.T) {
	code := t.TempDir()
	w := newWatcher(t, false, Target{Name: "fn", Trees: []string{code}})
	write(t, filepath.Join(code, "a.js"), "a")
	time.Sleep(200 * time.Millisecond) // debounced and queued, not taken
	write(t, filepath.Join(code, "b.js"), "b")
	time.Sleep(200 * time.Millisecond)
	c := next(t, w)
	if !slices.Equal(c.Paths, []string{filepath.Join(code, "a.js"), filepath.Join(code, "b.js")}) {
		t.Errorf("merged change: %+v", c)
	}
	quiet(t, w, 200*time.Millisecond)
}

func TestIgnoredName(t *testing.T) {
	for name, want := range map[string]bool{
		"app.py": false, "app.pyc": true, ".app.py.swp": true, "app.py~": true, "4913": true,
		".#app.py": true, "#app.py#": true, "#": false, "index.js": false, "x___jb_tmp___": true,
	} {
		if got := ignoredName(name); got != want {
			t.Errorf("ignoredName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestHoldReleaseEdit: an edit right after a release (a fix saved the
// moment a failed build is reported) is a change, while a late event of
// what the build wrote is not.
func TestHoldReleaseEdit(t *testing.T) {
	code := t.TempDir()
	write(t, filepath.Join(code, "main.go"), "package main")
	w := newWatcher(t, false, Target{Name: "fn", Trees: []string{code}})
	release := w.Hold(code)
	write(t, filepath.Join(code, "bootstrap"), "binary")
	time.Sleep(50 * time.Millisecond)
	release()
	write(t, filepath.Join(code, "bootstrap"), "binary, late") // within the grace: the build's
	write(t, filepath.Join(code, "main.go"), "package main // fixed")
	if c := next(t, w); !slices.Equal(c.Paths, []string{filepath.Join(code, "main.go")}) {
		t.Errorf("after the release: %+v, want main.go alone", c)
	}
}

// TestFallbackToPolling: a directory the kernel refuses to watch (here:
// the inotify watch limit, injected) is polled, and its changes are still
// reported; the reason is logged once.
func TestFallbackToPolling(t *testing.T) {
	orig := addWatch
	addWatch = func(*fsnotify.Watcher, string) error { return fmt.Errorf("add: %w", syscall.ENOSPC) }
	defer func() { addWatch = orig }()
	var logs strings.Builder
	code := t.TempDir()
	w := New(Options{PollInterval: 50 * time.Millisecond, Debounce: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	t.Cleanup(func() { w.Close() })
	w.Set([]Target{{Name: "fn", Trees: []string{code}}})
	settle()
	write(t, filepath.Join(code, "index.js"), "x")
	if c := next(t, w); c.Target != "fn" {
		t.Errorf("got %+v", c)
	}
	w.do(func() {}) // the loop wrote its log line before this returns
	if !strings.Contains(logs.String(), "max_user_watches") || !strings.Contains(logs.String(), "msg=polling") {
		t.Errorf("log: %s", logs.String())
	}
}

// TestTemporaryFiles: a file created and gone again within the debounce
// window (sed -i writes ./sedXXXXXX and renames it over the file; editors
// do the like) is not reported; the file it replaced is. A temporary
// alone reports nothing.
func TestTemporaryFiles(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			code := t.TempDir()
			index := filepath.Join(code, "index.js")
			write(t, index, "1")
			w := newWatcher(t, m.poll, Target{Name: "fn", Trees: []string{code}})
			settle()

			tmp := filepath.Join(code, "sedAbC123")
			write(t, tmp, "2")
			if err := os.Rename(tmp, index); err != nil {
				t.Fatal(err)
			}
			if c := next(t, w); !slices.Equal(c.Paths, []string{index}) {
				t.Errorf("sed -i: %+v, want only %s", c, index)
			}
			settle()
			write(t, tmp, "3")
			if err := os.Remove(tmp); err != nil {
				t.Fatal(err)
			}
			quiet(t, w, 400*time.Millisecond)
		})
	}
}
