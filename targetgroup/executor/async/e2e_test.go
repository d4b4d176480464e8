package async

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// realFn is a local function running one of the executor's test
// functions (aws-lambda-go bootstraps).
func realFn(tb testing.TB, name, code string, reserved int) executor.Function {
	return executor.Function{
		Name:       name,
		ARN:        "arn:aws:lambda:us-east-1:123456789012:function:" + name,
		Runtime:    "provided.al2023",
		Handler:    "bootstrap",
		Code:       exectest.Build(tb, code),
		MemorySize: 128,
		Timeout:    5 * time.Second,
		Reserved:   reserved,
		Region:     "us-east-1",
	}
}

func realPool(tb testing.TB, fns ...executor.Function) *executor.Pool {
	tb.Helper()
	p, err := executor.New(executor.Options{
		MaxConcurrency: 8,
		Logger:         slog.New(slog.DiscardHandler),
		FunctionLog:    discard{},
	}, fns)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.Close(ctx)
	})
	return p
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestEndToEndRealFunctions drives real aws-lambda-go functions through
// the executor: successes go to a file, failures are retried and their
// record goes to a destination function, whose own success record (with
// the failure record echoed) goes to another file.
func TestEndToEndRealFunctions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real function processes")
	}
	t.Parallel()
	dir := t.TempDir()
	okFile, sinkFile := filepath.Join(dir, "ok.jsonl"), filepath.Join(dir, "sink.jsonl")
	pool := realPool(t, realFn(t, "worker", "behave", 2), realFn(t, "sink", "behave", -1))
	opts := testOptions(t, dir)
	opts.Configs = map[string]Config{
		"worker": {MaximumRetryAttempts: 2, MaximumEventAge: time.Hour, OnSuccess: "file://" + okFile,
			OnFailure: "arn:aws:lambda:us-east-1:123456789012:function:sink"},
		"sink": {MaximumRetryAttempts: 0, MaximumEventAge: time.Hour, OnSuccess: "file://" + sinkFile},
	}
	q := openQueue(t, opts, pool)
	const good, bad = 20, 2
	failIDs := map[string]bool{}
	for i := range good + bad {
		payload := fmt.Appendf(nil, `{"stdout":["event %d"]}`, i)
		if i >= good {
			payload = []byte(`{"error":"bad"}`)
		}
		id, err := q.Enqueue(context.Background(), "worker", payload)
		if err != nil {
			t.Fatal(err)
		}
		if i >= good {
			failIDs[id] = true
		}
	}
	waitFor(t, "all events finished", func() bool {
		return idle(q)() && len(readRecords(t, okFile)) == good && len(readRecords(t, sinkFile)) == bad
	})

	for _, r := range readRecords(t, okFile) {
		var ans struct {
			Echo json.RawMessage `json:"echo"`
		}
		if err := json.Unmarshal(r.ResponsePayload, &ans); err != nil || r.RequestContext.Condition != ConditionSuccess ||
			r.RequestContext.ApproximateInvokeCount != 1 || string(ans.Echo) != string(r.RequestPayload) {
			t.Errorf("success record %+v (%v)", r, err)
		}
	}
	for _, r := range readRecords(t, sinkFile) {
		var ans struct {
			Echo Record `json:"echo"`
		}
		if err := json.Unmarshal(r.ResponsePayload, &ans); err != nil {
			t.Fatalf("sink answer %s: %v", r.ResponsePayload, err)
		}
		f := ans.Echo
		var fnErr struct {
			ErrorMessage string `json:"errorMessage"`
		}
		_ = json.Unmarshal(f.ResponsePayload, &fnErr)
		if !failIDs[f.RequestContext.RequestID] || f.RequestContext.Condition != ConditionRetriesExhausted ||
			f.RequestContext.ApproximateInvokeCount != 3 || f.ResponseContext.FunctionError != "Unhandled" ||
			fnErr.ErrorMessage != "bad" || f.RequestContext.FunctionARN != "arn:aws:lambda:us-east-1:123456789012:function:worker:$LATEST" {
			t.Errorf("failure record seen by the sink: %+v", f)
		}
	}
	s := q.Stats()
	t.Logf("stats: %+v", s)
	if s.Invocations != good+3*bad+bad || s.RetriesExhausted != bad || s.Succeeded != good+bad {
		t.Errorf("stats = %+v", s)
	}
}
