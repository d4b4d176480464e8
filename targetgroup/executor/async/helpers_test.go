package async

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// handler answers one invocation of a fake function; n is the 1-based
// number of the call for that function.
type handler func(ctx context.Context, n int, req executor.Request) (executor.Response, error)

// call is one invocation seen by fakeInvoker.
type call struct {
	at        time.Time
	payload   string
	requestID string
}

// fakeInvoker is an in-memory Invoker: functions with handlers, recording
// every call and the highest concurrency per function.
type fakeInvoker struct {
	mu       sync.Mutex
	fns      map[string]executor.Function
	handlers map[string]handler
	calls    map[string][]call
	running  map[string]int
	maxRun   map[string]int
}

func newFakeInvoker() *fakeInvoker {
	return &fakeInvoker{
		fns:      map[string]executor.Function{},
		handlers: map[string]handler{},
		calls:    map[string][]call{},
		running:  map[string]int{},
		maxRun:   map[string]int{},
	}
}

// add registers function name (reserved -1 = uncapped) with h (nil = echo
// the payload).
func (f *fakeInvoker) add(name string, reserved int, h handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fns[name] = executor.Function{
		Name:     name,
		ARN:      "arn:aws:lambda:us-east-1:123456789012:function:" + name,
		Reserved: reserved,
	}
	if h == nil {
		h = func(_ context.Context, _ int, req executor.Request) (executor.Response, error) {
			return executor.Response{Payload: req.Payload}, nil
		}
	}
	f.handlers[name] = h
}

func (f *fakeInvoker) Function(name string) (executor.Function, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn, ok := f.fns[name]
	return fn, ok
}

func (f *fakeInvoker) Invoke(ctx context.Context, req executor.Request) (executor.Response, error) {
	f.mu.Lock()
	h, ok := f.handlers[req.Function]
	if !ok {
		f.mu.Unlock()
		return executor.Response{}, executor.ErrFunctionNotFound
	}
	f.calls[req.Function] = append(f.calls[req.Function], call{at: time.Now(), payload: string(req.Payload), requestID: req.RequestID})
	n := len(f.calls[req.Function])
	f.running[req.Function]++
	f.maxRun[req.Function] = max(f.maxRun[req.Function], f.running[req.Function])
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running[req.Function]--
		f.mu.Unlock()
	}()
	return h(ctx, n, req)
}

func (f *fakeInvoker) callsOf(name string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls[name]...)
}

// failing fails the first n calls with a function error, then echoes.
func failing(n int) handler {
	return func(_ context.Context, i int, req executor.Request) (executor.Response, error) {
		if i <= n {
			return executor.Response{FunctionError: "Unhandled",
				Payload: []byte(`{"errorMessage":"boom","errorType":"errorString"}`)}, nil
		}
		return executor.Response{Payload: req.Payload}, nil
	}
}

// throttling throttles the first n calls (n < 0: always), then echoes.
func throttling(n int) handler {
	return func(_ context.Context, i int, req executor.Request) (executor.Response, error) {
		if n < 0 || i <= n {
			return executor.Response{}, &executor.ThrottleError{Function: req.Function, Reason: executor.ReasonReserved}
		}
		return executor.Response{Payload: req.Payload}, nil
	}
}

// clock is a real clock shifted by an adjustable offset.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

// testOptions has short delays for fast tests.
func testOptions(t *testing.T, dir string) Options {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	return Options{
		Dir:         dir,
		RetryDelays: []time.Duration{20 * time.Millisecond, 40 * time.Millisecond},
		BackoffMin:  5 * time.Millisecond,
		BackoffMax:  20 * time.Millisecond,
		Workers:     8,
	}
}

// openQueue opens and starts a queue closed at test end.
func openQueue(t *testing.T, opts Options, inv Invoker) *Queue {
	t.Helper()
	q, err := Open(opts, inv)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	q.Start()
	t.Cleanup(func() {
		if err := q.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return q
}

// waitFor polls cond until it holds, failing after 20 s (a hang guard, not
// a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// idle reports whether q has finished every event.
func idle(q *Queue) func() bool {
	return func() bool { s := q.Stats(); return s.Pending == 0 && s.InFlight == 0 }
}

// readRecords reads the JSON-lines records of a file destination.
func readRecords(t *testing.T, path string) []Record {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("record line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}
