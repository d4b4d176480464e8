package async

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

func TestEnqueueErrors(t *testing.T) {
	t.Parallel()
	inv := newFakeInvoker()
	inv.add("fn", -1, nil)
	q := openQueue(t, testOptions(t, ""), inv)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		function string
		payload  []byte
		want     error
	}{
		{"unknown function", context.Background(), "nope", []byte(`{}`), executor.ErrFunctionNotFound},
		{"payload over 1 MB", context.Background(), "fn", bytes.Repeat([]byte("a"), MaxPayloadSize+1), executor.ErrPayloadTooLarge},
		{"cancelled context", cancelled, "fn", []byte(`{}`), context.Canceled},
		{"payload at 1 MB", context.Background(), "fn", bytes.Repeat([]byte("a"), MaxPayloadSize), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := q.Enqueue(tt.ctx, tt.function, tt.payload)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil && len(id) != 36 {
				t.Errorf("request id %q", id)
			}
		})
	}
}

func TestEnqueueAfterClose(t *testing.T) {
	t.Parallel()
	inv := newFakeInvoker()
	inv.add("fn", -1, nil)
	q, err := Open(testOptions(t, ""), inv)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Enqueue(context.Background(), "fn", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("err = %v, want ErrClosed", err)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestRecoveryAcrossReopen: events stored but not delivered (no Start)
// and events with a function error recorded survive Close and reopen.
func TestRecoveryAcrossReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := newFakeInvoker()
	inv.add("fn", -1, nil)
	opts := testOptions(t, dir)
	q, err := Open(opts, inv)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for range 20 {
		id, err := q.Enqueue(context.Background(), "fn", []byte(`{"x":1}`))
		if err != nil {
			t.Fatal(err)
		}
		want[id] = true
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(inv.callsOf("fn")); n != 0 {
		t.Fatalf("delivered %d before Start", n)
	}
	// Counted before Start: once dispatch runs, the instant fake invoker
	// may finish an event before Stats is read.
	q2, err := Open(opts, inv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q2.Close(context.Background()) })
	if s := q2.Stats(); s.Pending != 20 {
		t.Errorf("recovered pending = %d, want 20", s.Pending)
	}
	q2.Start()
	waitFor(t, "recovered events delivered", idle(q2))
	if n := len(inv.callsOf("fn")); n != 20 {
		t.Errorf("delivered %d, want 20", n)
	}
}

// TestRetryStateSurvivesReopen: the attempt count is stored, so a restart
// does not grant extra retries.
func TestRetryStateSurvivesReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	failFile := filepath.Join(dir, "failure.jsonl")
	inv := newFakeInvoker()
	inv.add("fn", -1, failing(100))
	opts := testOptions(t, dir)
	opts.RetryDelays = []time.Duration{time.Hour}
	opts.Configs = map[string]Config{"fn": {MaximumRetryAttempts: 1, MaximumEventAge: 6 * time.Hour, OnFailure: "file://" + failFile}}
	q, err := Open(opts, inv)
	if err != nil {
		t.Fatal(err)
	}
	q.Start()
	if _, err := q.Enqueue(context.Background(), "fn", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "retry scheduled", func() bool { return q.Stats().Retried == 1 })
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var clk clock
	clk.advance(time.Hour)
	opts.Now = clk.Now
	q2 := openQueue(t, opts, inv)
	waitFor(t, "event finished", idle(q2))
	recs := readRecords(t, failFile)
	if len(recs) != 1 || recs[0].RequestContext.ApproximateInvokeCount != 2 || len(inv.callsOf("fn")) != 2 {
		t.Errorf("records %+v after %d calls", recs, len(inv.callsOf("fn")))
	}
}

// TestCloseCancelsInFlight: Close gives up at its context, cancels the
// running invocation, and the event is delivered after reopening.
func TestCloseCancelsInFlight(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := newFakeInvoker()
	started := make(chan struct{})
	var once sync.Once
	inv.add("slow", -1, func(ctx context.Context, _ int, _ executor.Request) (executor.Response, error) {
		once.Do(func() { close(started) })
		<-ctx.Done()
		return executor.Response{}, ctx.Err()
	})
	opts := testOptions(t, dir)
	q, err := Open(opts, inv)
	if err != nil {
		t.Fatal(err)
	}
	q.Start()
	if _, err := q.Enqueue(context.Background(), "slow", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := q.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want DeadlineExceeded", err)
	}
	inv.add("slow", -1, nil)
	q2 := openQueue(t, opts, inv)
	waitFor(t, "event delivered after reopen", idle(q2))
	if s := q2.Stats(); s.Succeeded != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{"invalid config", Options{Dir: t.TempDir(), Configs: map[string]Config{"f": {MaximumRetryAttempts: 3, MaximumEventAge: time.Hour}}}, ErrInvalidConfig},
		{"dir is a file", Options{Dir: file}, nil},
		{"no dir", Options{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Open(tt.opts, newFakeInvoker())
			if err == nil {
				q.Close(context.Background())
				t.Fatal("Open succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
