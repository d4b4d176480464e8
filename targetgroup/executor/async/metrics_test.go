package async

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/albedo-lb/albedo/internal/metricstest"
)

// TestMetrics: after a known mix of events (successes, function errors
// retried then exhausted, throttles requeued), the scraped counters equal
// the outcomes, the destination records written are counted by
// destination, and the queue is seen empty.
func TestMetrics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := newFakeInvoker()
	inv.add("ok", -1, nil)
	inv.add("fail", -1, failing(100))
	inv.add("thr", -1, throttling(2))
	opts := testOptions(t, dir)
	okCfg := DefaultConfig()
	okCfg.OnSuccess = "file://" + filepath.Join(dir, "ok.jsonl")
	failCfg := DefaultConfig()
	failCfg.MaximumRetryAttempts = 1
	failCfg.OnFailure = "file://" + filepath.Join(dir, "fail.jsonl")
	opts.Configs = map[string]Config{"ok": okCfg, "fail": failCfg}
	reg := prometheus.NewRegistry()
	opts.Metrics = NewMetrics(reg)
	q := openQueue(t, opts, inv)
	for _, fn := range []string{"ok", "ok", "ok", "fail", "fail", "thr"} {
		if _, err := q.Enqueue(context.Background(), fn, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every event finished", idle(q))
	s := metricstest.Gather(t, reg)
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"albedo_async_events_received_total", nil, 6},
		{"albedo_async_invocations_total", nil, 3 + 2*2 + 1},
		{"albedo_async_events_succeeded_total", nil, 4},
		{"albedo_async_retries_total", nil, 2},
		{"albedo_async_requeues_total", nil, 2},
		{"albedo_async_events_dropped_total", []string{"reason", "retries_exhausted"}, 2},
		{"albedo_async_events_dropped_total", []string{"reason", "event_age_exceeded"}, 0},
		{"albedo_async_destination_deliveries_total", []string{"destination", "on_success"}, 3},
		{"albedo_async_destination_deliveries_total", []string{"destination", "on_failure"}, 2},
		{"albedo_async_destination_errors_total", nil, 0},
		{"albedo_async_queue_depth", nil, 0},
		{"albedo_async_deliveries_in_flight", nil, 0},
		{"albedo_async_oldest_event_age_seconds", nil, 0},
	}
	for _, c := range checks {
		if got := s.Get(c.name, c.labels...); got != c.want || !s.Has(c.name, c.labels...) {
			t.Errorf("%s%v = %g, want %g", c.name, c.labels, got, c.want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", s)
	}
}

// TestMetricsOldestEventAndReopen: events waiting in a queue that is not
// dispatching show as its depth and the age of the oldest; a queue opened
// again on the same Metrics (a reload) adds to the counters of the closed
// one.
func TestMetricsOldestEventAndReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := newFakeInvoker()
	inv.add("ok", -1, nil)
	reg := prometheus.NewRegistry()
	var clk clock
	opts := testOptions(t, dir)
	opts.Now = clk.Now
	opts.Metrics = NewMetrics(reg)
	q, err := Open(opts, inv) // not started: events wait
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := q.Enqueue(context.Background(), "ok", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	clk.advance(90 * time.Second)
	s := metricstest.Gather(t, reg)
	if got := s.Get("albedo_async_queue_depth"); got != 2 {
		t.Errorf("depth = %g, want 2", got)
	}
	if got := s.Get("albedo_async_oldest_event_age_seconds"); got < 90 || got > 120 {
		t.Errorf("oldest event age = %g s, want about 90", got)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s = metricstest.Gather(t, reg)
	if got, depth := s.Get("albedo_async_events_received_total"), s.Get("albedo_async_queue_depth"); got != 2 || depth != 0 {
		t.Errorf("after Close: received %g, depth %g; want 2 and 0", got, depth)
	}
	q = openQueue(t, opts, inv)
	waitFor(t, "the recovered events delivered", idle(q))
	s = metricstest.Gather(t, reg)
	if got := s.Get("albedo_async_events_received_total"); got != 2 {
		t.Errorf("received = %g after reopening, want 2 (recovered events are not received again)", got)
	}
	if got := s.Get("albedo_async_events_succeeded_total"); got != 2 {
		t.Errorf("succeeded = %g, want 2", got)
	}
}
