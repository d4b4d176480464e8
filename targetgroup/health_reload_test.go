package targetgroup

import (
	"context"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// TestHealthReload: a group whose checks did not change keeps its state
// across a reload; one whose health check changed starts again from
// initial.
func TestHealthReload(t *testing.T) {
	cfg := loadTestConfig(t)
	hc := &cfg.TargetGroups[0].HealthCheck
	hc.Enabled, hc.Interval, hc.Timeout = true, 5, 2
	hc.HealthyThreshold, hc.UnhealthyThreshold = 2, 2
	inv := &fakeInvoker{resp: executor.Response{Payload: []byte(`{"statusCode":200}`)}}
	groups, err := New(cfg, Options{Invoker: inv})
	if err != nil {
		t.Fatal(err)
	}
	h := StartHealthChecks(context.Background(), cfg, groups, inv, nil)
	for deadline := time.Now().Add(5 * time.Second); h.State("api") != HealthHealthy; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never healthy: %s", h.State("api"))
		}
	}
	// Same settings, rebuilt groups: still healthy, without a new
	// threshold's worth of checks.
	inv.mu.Lock()
	inv.resp = executor.Response{Payload: []byte(`{"statusCode":500}`)}
	inv.mu.Unlock()
	groups, _ = New(cfg, Options{Invoker: inv})
	h = h.Reload(context.Background(), cfg, groups, inv)
	if got := h.State("api"); got != HealthHealthy {
		t.Errorf("after a reload that kept the group: %s, want healthy", got)
	}
	// A changed health check starts from initial.
	hc.Matcher = "200-299"
	groups, _ = New(cfg, Options{Invoker: inv})
	h2 := h.Reload(context.Background(), cfg, groups, inv)
	defer h2.Stop()
	if got := h2.State("api"); got != HealthInitial && got != HealthUnhealthy {
		t.Errorf("after a reload that changed the check: %s, want initial (or already unhealthy)", got)
	}
}
