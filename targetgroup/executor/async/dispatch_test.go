package async

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

func TestRetriesAndDestinations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		failures      int // function errors before success
		retries       int // MaximumRetryAttempts
		wantCalls     int
		wantCondition string
		wantFnError   string
	}{
		{name: "success first time", failures: 0, retries: 2, wantCalls: 1, wantCondition: ConditionSuccess},
		{name: "success on retry 1", failures: 1, retries: 2, wantCalls: 2, wantCondition: ConditionSuccess},
		{name: "success on retry 2", failures: 2, retries: 2, wantCalls: 3, wantCondition: ConditionSuccess},
		{name: "exhausted after 2 retries", failures: 5, retries: 2, wantCalls: 3, wantCondition: ConditionRetriesExhausted, wantFnError: "Unhandled"},
		{name: "exhausted after 1 retry", failures: 5, retries: 1, wantCalls: 2, wantCondition: ConditionRetriesExhausted, wantFnError: "Unhandled"},
		{name: "no retries", failures: 1, retries: 0, wantCalls: 1, wantCondition: ConditionRetriesExhausted, wantFnError: "Unhandled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			okFile := filepath.Join(dir, "success.jsonl")
			failFile := filepath.Join(dir, "failure.jsonl")
			inv := newFakeInvoker()
			inv.add("fn", -1, failing(tt.failures))
			opts := testOptions(t, dir)
			opts.Configs = map[string]Config{"fn": {
				MaximumRetryAttempts: tt.retries, MaximumEventAge: time.Hour,
				OnSuccess: "file://" + okFile, OnFailure: "file://" + failFile,
			}}
			q := openQueue(t, opts, inv)
			id, err := q.Enqueue(context.Background(), "fn", []byte(`{"order":1}`))
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "event finished", idle(q))

			calls := inv.callsOf("fn")
			if len(calls) != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", len(calls), tt.wantCalls)
			}
			for i, c := range calls {
				if c.requestID != id {
					t.Errorf("attempt %d carried request id %q, want the event's %q", i+1, c.requestID, id)
				}
			}
			for i := 1; i < len(calls); i++ {
				if gap, want := calls[i].at.Sub(calls[i-1].at), opts.RetryDelays[i-1]; gap < want {
					t.Errorf("retry %d came after %v, want >= %v", i, gap, want)
				}
			}
			okRecs, failRecs := readRecords(t, okFile), readRecords(t, failFile)
			recs := okRecs
			if tt.wantCondition != ConditionSuccess {
				recs = failRecs
			}
			if len(okRecs)+len(failRecs) != 1 || len(recs) != 1 {
				t.Fatalf("records: %d success, %d failure; want one %s", len(okRecs), len(failRecs), tt.wantCondition)
			}
			r := recs[0]
			if r.RequestContext.Condition != tt.wantCondition || r.RequestContext.RequestID != id ||
				r.RequestContext.ApproximateInvokeCount != tt.wantCalls ||
				r.RequestContext.FunctionARN != "arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST" ||
				r.ResponseContext.StatusCode != 200 || r.ResponseContext.FunctionError != tt.wantFnError ||
				string(r.RequestPayload) != `{"order":1}` || r.Version != "1.0" {
				t.Errorf("record = %+v", r)
			}
			s := q.Stats()
			if s.Invocations != int64(tt.wantCalls) || s.Retried != int64(tt.wantCalls-1) {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

func TestThrottleBackoff(t *testing.T) {
	t.Parallel()
	inv := newFakeInvoker()
	inv.add("fn", -1, throttling(4))
	opts := testOptions(t, "")
	q := openQueue(t, opts, inv)
	if _, err := q.Enqueue(context.Background(), "fn", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "event finished", idle(q))
	calls := inv.callsOf("fn")
	if len(calls) != 5 {
		t.Fatalf("calls = %d, want 5", len(calls))
	}
	for i := 1; i < len(calls); i++ {
		want := min(opts.BackoffMin<<(i-1), opts.BackoffMax)
		if gap := calls[i].at.Sub(calls[i-1].at); gap < want {
			t.Errorf("attempt %d after %v, want >= %v", i+1, gap, want)
		}
	}
	// Throttles are not attempts: the single successful call is the first
	// that reached the function.
	if s := q.Stats(); s.Requeued != 4 || s.Invocations != 1 || s.Succeeded != 1 || s.Retried != 0 {
		t.Errorf("stats = %+v", s)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	q := &Queue{opts: Options{BackoffMin: time.Second, BackoffMax: 5 * time.Minute}}
	tests := []struct {
		n    int
		want time.Duration
	}{
		{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {9, 256 * time.Second},
		{10, 5 * time.Minute}, {1000, 5 * time.Minute},
	}
	for _, tt := range tests {
		if got := q.backoff(tt.n); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestEventAgeExceeded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		h           handler
		wantInvokes int
		wantStatus  int
	}{
		{name: "always throttled", h: throttling(-1), wantInvokes: 0, wantStatus: 429},
		{name: "function error then throttled", h: func(ctx context.Context, n int, req executor.Request) (executor.Response, error) {
			if n == 1 {
				return failing(1)(ctx, n, req)
			}
			return throttling(-1)(ctx, n, req)
		}, wantInvokes: 1, wantStatus: 429},
		{name: "system errors", h: func(context.Context, int, executor.Request) (executor.Response, error) {
			return executor.Response{}, fmt.Errorf("exec: %w", executor.ErrClosed)
		}, wantInvokes: 0, wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			failFile := filepath.Join(dir, "failure.jsonl")
			inv := newFakeInvoker()
			inv.add("fn", -1, tt.h)
			var clk clock
			opts := testOptions(t, dir)
			opts.Now = clk.Now
			opts.Configs = map[string]Config{"fn": {MaximumRetryAttempts: 2, MaximumEventAge: time.Minute, OnFailure: "file://" + failFile}}
			q := openQueue(t, opts, inv)
			if _, err := q.Enqueue(context.Background(), "fn", []byte(`{"a":1}`)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "two attempts", func() bool { return len(inv.callsOf("fn")) >= 2 })
			clk.advance(time.Minute)
			waitFor(t, "event expired", idle(q))
			recs := readRecords(t, failFile)
			if len(recs) != 1 {
				t.Fatalf("records = %d, want 1", len(recs))
			}
			r := recs[0]
			if r.RequestContext.Condition != ConditionEventAgeExceeded || r.RequestContext.ApproximateInvokeCount != tt.wantInvokes ||
				r.ResponseContext.StatusCode != tt.wantStatus || r.ResponseContext.FunctionError != "" || r.ResponsePayload != nil {
				t.Errorf("record = %+v", r)
			}
			if s := q.Stats(); s.Expired != 1 {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

func TestReservedZeroGoesToFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	failFile := filepath.Join(dir, "failure.jsonl")
	inv := newFakeInvoker()
	inv.add("off", 0, nil)
	opts := testOptions(t, dir)
	opts.Configs = map[string]Config{"off": {MaximumRetryAttempts: 2, MaximumEventAge: time.Hour, OnFailure: "file://" + failFile}}
	q := openQueue(t, opts, inv)
	for range 3 {
		if _, err := q.Enqueue(context.Background(), "off", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "events finished", idle(q))
	if n := len(inv.callsOf("off")); n != 0 {
		t.Errorf("function invoked %d times", n)
	}
	recs := readRecords(t, failFile)
	if len(recs) != 3 {
		t.Fatalf("records = %d, want 3", len(recs))
	}
	for _, r := range recs {
		if r.RequestContext.Condition != ConditionRetriesExhausted || r.RequestContext.ApproximateInvokeCount != 0 ||
			r.ResponseContext.StatusCode != 429 {
			t.Errorf("record = %+v", r)
		}
	}
}

func TestDestinationFunction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dest string
	}{
		{"by name", "sink"},
		{"by ARN", "arn:aws:lambda:us-east-1:123456789012:function:sink"},
		{"by qualified ARN", "arn:aws:lambda:us-east-1:123456789012:function:sink:$LATEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := newFakeInvoker()
			inv.add("fn", -1, failing(100))
			inv.add("sink", -1, nil)
			opts := testOptions(t, "")
			opts.Configs = map[string]Config{"fn": {MaximumRetryAttempts: 1, MaximumEventAge: time.Hour, OnFailure: tt.dest}}
			q := openQueue(t, opts, inv)
			id, err := q.Enqueue(context.Background(), "fn", []byte(`{"k":"v"}`))
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "record delivered", func() bool { return idle(q)() && len(inv.callsOf("sink")) == 1 })
			var r Record
			if err := json.Unmarshal([]byte(inv.callsOf("sink")[0].payload), &r); err != nil {
				t.Fatal(err)
			}
			if r.RequestContext.RequestID != id || r.RequestContext.Condition != ConditionRetriesExhausted ||
				r.RequestContext.ApproximateInvokeCount != 2 || r.ResponseContext.FunctionError != "Unhandled" ||
				string(r.ResponsePayload) != `{"errorMessage":"boom","errorType":"errorString"}` {
				t.Errorf("record = %+v", r)
			}
			if s := q.Stats(); s.Accepted != 2 || s.Succeeded != 1 || s.RetriesExhausted != 1 {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

func TestDestinationErrorsDropRecord(t *testing.T) {
	t.Parallel()
	inv := newFakeInvoker()
	inv.add("fn", -1, nil)
	opts := testOptions(t, "")
	opts.Configs = map[string]Config{"fn": {MaximumRetryAttempts: 2, MaximumEventAge: time.Hour,
		OnSuccess: "file:///nonexistent-dir/x/records.jsonl"}}
	q := openQueue(t, opts, inv)
	if _, err := q.Enqueue(context.Background(), "fn", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "event finished", idle(q))
	if s := q.Stats(); s.DestinationErrors != 1 || s.Invocations != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestReservedConcurrencyCap(t *testing.T) {
	t.Parallel()
	inv := newFakeInvoker()
	inv.add("capped", 2, func(_ context.Context, _ int, req executor.Request) (executor.Response, error) {
		time.Sleep(time.Millisecond)
		return executor.Response{Payload: req.Payload}, nil
	})
	opts := testOptions(t, "")
	opts.Workers = 16
	q := openQueue(t, opts, inv)
	for i := range 40 {
		if _, err := q.Enqueue(context.Background(), "capped", fmt.Appendf(nil, `{"i":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "events finished", idle(q))
	inv.mu.Lock()
	peak := inv.maxRun["capped"]
	inv.mu.Unlock()
	if peak > 2 {
		t.Errorf("peak concurrency %d, want <= 2", peak)
	}
	if s := q.Stats(); s.Succeeded != 40 || s.Requeued != 0 {
		t.Errorf("stats = %+v", s)
	}
}

func TestUnknownFunctionAtDispatchIsRequeued(t *testing.T) {
	t.Parallel()
	inv := newFakeInvoker()
	inv.add("fn", -1, nil)
	opts := testOptions(t, "")
	q, err := Open(opts, inv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Enqueue(context.Background(), "fn", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	// The function disappears (config changed) and comes back.
	inv.mu.Lock()
	delete(inv.handlers, "fn")
	inv.mu.Unlock()
	q.Start()
	defer q.Close(context.Background())
	waitFor(t, "a requeue", func() bool { return q.Stats().Requeued > 0 })
	inv.add("fn", -1, nil)
	waitFor(t, "event finished", idle(q))
	if s := q.Stats(); s.Succeeded != 1 {
		t.Errorf("stats = %+v", s)
	}
}
