package async

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

const durabilityEvents = 1000

// appender appends lines to a file with O_APPEND, optionally fsyncing each.
type appender struct {
	mu   sync.Mutex
	f    *os.File
	sync bool
}

func openAppender(path string, sync bool) (*appender, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	return &appender{f: f, sync: sync}, err
}

func (a *appender) line(b []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(append(b, '\n')); err != nil {
		return err
	}
	if a.sync {
		return a.f.Sync()
	}
	return nil
}

// recordingInvoker's function "fn" appends each delivered payload as one
// fsynced line, then takes a little time, so a kill lands mid-delivery.
func recordingInvoker(t testing.TB, delivered string) *fakeInvoker {
	out, err := openAppender(delivered, true)
	if err != nil {
		t.Fatal(err)
	}
	inv := newFakeInvoker()
	inv.add("fn", -1, func(_ context.Context, _ int, req executor.Request) (executor.Response, error) {
		if err := out.line(req.Payload); err != nil {
			return executor.Response{}, err
		}
		time.Sleep(2 * time.Millisecond)
		return executor.Response{Payload: []byte(`null`)}, nil
	})
	return inv
}

// TestHelperProcess is the child of TestDurabilitySIGKILL: it opens the
// queue, accepts durabilityEvents events (logging each accepted one), and
// delivers them until killed.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("ALBEDO_ASYNC_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for TestDurabilitySIGKILL")
	}
	inv := recordingInvoker(t, filepath.Join(dir, "delivered"))
	accepted, err := openAppender(filepath.Join(dir, "accepted"), false)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Dir: filepath.Join(dir, "state"), Workers: 16, BackoffMin: time.Millisecond, BackoffMax: 10 * time.Millisecond}
	q, err := Open(opts, inv)
	if err != nil {
		t.Fatal(err)
	}
	startFirst := os.Getenv("ALBEDO_ASYNC_HELPER_MODE") == "start-first"
	if startFirst {
		q.Start()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				n := next.Add(1) - 1
				if n >= durabilityEvents {
					return
				}
				p := fmt.Appendf(nil, `{"n":%d}`, n)
				if _, err := q.Enqueue(context.Background(), "fn", p); err != nil {
					panic(err)
				}
				if err := accepted.line(p); err != nil {
					panic(err)
				}
			}
		})
	}
	wg.Wait()
	if !startFirst {
		q.Start()
	}
	select {} // until SIGKILL
}

func TestDurabilitySIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	tests := []struct {
		name string
		mode string
		// kill when the child has accepted and delivered at least this many
		accepted, delivered int
	}{
		{name: "kill mid-delivery", mode: "accept-first", accepted: durabilityEvents, delivered: 200},
		{name: "kill mid-accept", mode: "start-first", accepted: 300, delivered: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), "ALBEDO_ASYNC_HELPER_DIR="+dir, "ALBEDO_ASYNC_HELPER_MODE="+tt.mode)
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			deadline := time.After(60 * time.Second)
		poll:
			for {
				select {
				case err := <-exited:
					t.Fatalf("helper exited before the kill: %v\n%s", err, stderr.Bytes())
				case <-deadline:
					cmd.Process.Kill()
					t.Fatal("helper never reached the kill point")
				case <-time.After(2 * time.Millisecond):
					if len(readLines(t, filepath.Join(dir, "accepted"))) >= tt.accepted &&
						len(readLines(t, filepath.Join(dir, "delivered"))) >= tt.delivered {
						break poll
					}
				}
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			<-exited
			accepted := readLines(t, filepath.Join(dir, "accepted"))
			beforeKill := len(readLines(t, filepath.Join(dir, "delivered")))

			// Restart in-process on the same state directory.
			inv := recordingInvoker(t, filepath.Join(dir, "delivered"))
			q := openQueue(t, Options{Dir: filepath.Join(dir, "state"), Workers: 16}, inv)
			recovered := q.Stats().Pending
			waitFor(t, "recovered events delivered", idle(q))

			delivered := readLines(t, filepath.Join(dir, "delivered"))
			count := map[string]int{}
			for _, d := range delivered {
				count[d]++
			}
			for _, a := range accepted {
				if count[a] == 0 {
					t.Errorf("accepted event %s was never delivered", a)
				}
			}
			dups := len(delivered) - len(count)
			t.Logf("accepted %d before SIGKILL; delivered %d before, %d after restart (%d recovered); %d unique, %d duplicates",
				len(accepted), beforeKill, len(delivered)-beforeKill, recovered, len(count), dups)
			if len(count) > durabilityEvents {
				t.Errorf("%d distinct deliveries from %d events", len(count), durabilityEvents)
			}
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}
