package executor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/albedo-lb/albedo/internal/metricstest"
)

// TestMetricsMatchReports: after successes, a function error, a timeout
// (which costs a cold start after it) and throttles, the function metrics
// equal what the REPORT lines say: invocations, errors, timeouts, cold
// starts, billed GB-seconds and cost at the configured prices, the
// highest Max Memory Used; and the environment gauges show the one warm
// environment left.
func TestMetricsMatchReports(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	pricing := Pricing{RequestUSDPerMillion: 0.20, GBSecondUSD: 0.0000166667}
	m := NewMetrics(reg, pricing)
	fn := behaveFn(t, "metered")
	fn.MemorySize = 256
	fn.Timeout = time.Second
	blocked := behaveFn(t, "blocked")
	blocked.Reserved = 0
	p, flog := newTestPool(t, Options{Metrics: m}, fn, blocked)

	for _, ev := range []string{`{}`, `{"alloc_mb":20}`, `{"error":"bad"}`, `{"sleep_ms":1500}`, `{}`, `{}`} {
		invoke(t, p, "metered", ev)
	}
	for range 2 {
		_, err := p.Invoke(context.Background(), Request{Function: "blocked", Payload: []byte(`{}`)})
		if !errors.Is(err, ErrThrottled) {
			t.Fatalf("blocked: %v, want a throttle", err)
		}
	}
	want := metricstest.SumReports(t, flog.String(), "")
	if want.Lines != 6 || want.Timeouts != 1 || want.Cold != 2 {
		t.Fatalf("REPORT lines %+v: want 6 lines, 1 timeout, 2 cold starts\n%s", want, flog.String())
	}

	s := metricstest.Gather(t, reg)
	fnLabel := []string{"function", "metered"}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"invocations", s.Get("albedo_function_invocations_total", fnLabel...), 6},
		{"errors", s.Get("albedo_function_errors_total", fnLabel...), 2},
		{"timeouts", s.Get("albedo_function_timeouts_total", fnLabel...), 1},
		{"cold starts", s.Get("albedo_function_cold_starts_total", fnLabel...), 2},
		{"throttles", s.Get("albedo_function_throttles_total", "function", "blocked"), 2},
		{"blocked invocations", s.Get("albedo_function_invocations_total", "function", "blocked"), 0},
		{"duration count", s.Get("albedo_function_duration_seconds_count", fnLabel...), 6},
		{"init duration count", s.Get("albedo_function_init_duration_seconds_count", fnLabel...), 2},
		{"max memory", s.Get("albedo_function_max_memory_used_bytes", fnLabel...), float64(want.MaxMemoryMB) * (1 << 20)},
		{"idle environments", s.Get("albedo_function_environments", "function", "metered", "state", "idle"), 1},
		{"busy environments", s.Get("albedo_function_environments", "function", "metered", "state", "busy"), 0},
		{"concurrent executions", s.Get("albedo_function_concurrent_executions", fnLabel...), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
		}
	}
	if got := s.Get("albedo_function_billed_gb_seconds_total", fnLabel...); !metricstest.Near(got, want.GBSeconds) {
		t.Errorf("billed GB-s = %.12g, REPORT lines say %.12g", got, want.GBSeconds)
	}
	wantCost := float64(want.Lines)*pricing.RequestUSDPerMillion/1e6 + want.GBSeconds*pricing.GBSecondUSD
	if got := s.Get("albedo_function_estimated_cost_usd_total", fnLabel...); !metricstest.Near(got, wantCost) {
		t.Errorf("cost = %.15g USD, REPORT lines say %.15g", got, wantCost)
	}
	if want.MaxMemoryMB < 20 {
		t.Errorf("max memory used %d MB after allocating 20 MB", want.MaxMemoryMB)
	}
	if t.Failed() {
		t.Logf("metrics:\n%s\nlog:\n%s", s, flog.String())
	}
}

// TestMetricsBusyEnvironment: an invocation in flight shows as a busy
// environment and a concurrent execution while it runs.
func TestMetricsBusyEnvironment(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, DefaultPricing)
	p, _ := newTestPool(t, Options{Metrics: m}, behaveFn(t, "slow"))
	invoke(t, p, "slow", `{}`) // warm
	done := make(chan struct{})
	go func() {
		defer close(done)
		invoke(t, p, "slow", `{"sleep_ms":1500}`)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := metricstest.Gather(t, reg)
		if s.Get("albedo_function_environments", "function", "slow", "state", "busy") == 1 &&
			s.Get("albedo_function_concurrent_executions", "function", "slow") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no busy environment seen:\n%s", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	<-done
}

// TestMetricsSurviveNewPool: a Pool built again on the same Metrics (a
// reload) counts into the same series.
func TestMetricsSurviveNewPool(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, DefaultPricing)
	for range 2 {
		p, _ := newTestPool(t, Options{Metrics: m}, behaveFn(t, "again"))
		invoke(t, p, "again", `{}`)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		p.Close(ctx)
		cancel()
	}
	s := metricstest.Gather(t, reg)
	if got := s.Get("albedo_function_invocations_total", "function", "again"); got != 2 {
		t.Errorf("invocations = %g over two pools, want 2", got)
	}
	if got := s.Get("albedo_function_environments", "function", "again", "state", "idle"); got != 0 {
		t.Errorf("idle environments = %g after both pools closed, want 0", got)
	}
}
