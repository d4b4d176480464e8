package targetgroup

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/internal/metricstest"
	"github.com/albedo-lb/albedo/targetgroup/executor"
)

func init() { healthIntervalUnit = time.Millisecond }

func TestHealthChecks(t *testing.T) {
	ok := executor.Response{Payload: []byte(`{"statusCode":200}`)}
	tests := []struct {
		name    string
		enabled bool
		matcher string
		resp    executor.Response
		err     error
		want    string
	}{
		{name: "disabled", enabled: false, resp: ok, want: HealthUnavailable},
		{name: "healthy", enabled: true, matcher: "200", resp: ok, want: HealthHealthy},
		{name: "range", enabled: true, matcher: "200-299", resp: executor.Response{Payload: []byte(`{"statusCode":204}`)}, want: HealthHealthy},
		{name: "list", enabled: true, matcher: "200,404", resp: executor.Response{Payload: []byte(`{"statusCode":404}`)}, want: HealthHealthy},
		{name: "status outside matcher", enabled: true, matcher: "200", resp: executor.Response{Payload: []byte(`{"statusCode":500}`)}, want: HealthUnhealthy},
		{name: "function error", enabled: true, matcher: "200", resp: executor.Response{FunctionError: "Unhandled", Payload: []byte(`{}`)}, want: HealthUnhealthy},
		{name: "invalid response", enabled: true, matcher: "200", resp: executor.Response{Payload: []byte(`{"statusCode":"200"}`)}, want: HealthUnhealthy},
		{name: "throttled", enabled: true, matcher: "200", err: &executor.ThrottleError{Function: "api-fn", Reason: executor.ReasonConcurrent}, want: HealthUnhealthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := loadTestConfig(t)
			hc := &cfg.TargetGroups[0].HealthCheck
			hc.Enabled, hc.Interval, hc.Timeout = tt.enabled, 5, 2
			hc.HealthyThreshold, hc.UnhealthyThreshold = 2, 2
			if tt.matcher != "" {
				hc.Matcher = tt.matcher
			}
			inv := &fakeInvoker{resp: tt.resp, err: tt.err}
			groups, err := New(cfg, Options{Invoker: inv})
			if err != nil {
				t.Fatal(err)
			}
			h := StartHealthChecks(context.Background(), cfg, groups, inv, nil)
			defer h.Stop()
			deadline := time.Now().Add(5 * time.Second)
			for h.State("api") != tt.want && time.Now().Before(deadline) {
				time.Sleep(2 * time.Millisecond)
			}
			if got := h.State("api"); got != tt.want {
				t.Fatalf("state = %q, want %q", got, tt.want)
			}
			if !tt.enabled {
				return
			}
			inv.mu.Lock()
			payload := inv.last.Payload
			inv.mu.Unlock()
			var ev events.ALBTargetGroupRequest
			if err := json.Unmarshal(payload, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Headers["user-agent"] != "ELB-HealthChecker/2.0" || ev.HTTPMethod != "GET" || ev.RequestContext.ELB.TargetGroupArn != groups["api"].ARN() {
				t.Errorf("health-check event: %s", payload)
			}
		})
	}
}

func TestParseMatcher(t *testing.T) {
	tests := []struct {
		in   string
		want []codeRange
	}{
		{"200", []codeRange{{200, 200}}},
		{"200,202", []codeRange{{200, 200}, {202, 202}}},
		{"200-299", []codeRange{{200, 299}}},
		{"200-204,404", []codeRange{{200, 204}, {404, 404}}},
	}
	for _, tt := range tests {
		got := parseMatcher(tt.in)
		if len(got) != len(tt.want) {
			t.Fatalf("%q: %v", tt.in, got)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%q: %v, want %v", tt.in, got, tt.want)
			}
		}
	}
}

// TestHealthDescribe: each group's entry in the /targetgroups view, with
// ELB's reason codes: checks disabled, a group no rule uses, and each kind
// of failed check.
func TestHealthDescribe(t *testing.T) {
	tests := []struct {
		name       string
		enabled    bool
		group      string
		resp       executor.Response
		err        error
		want       TargetHealth
		wantPrefix bool // Description is only a prefix of the real one
	}{
		{name: "disabled", group: "api", want: TargetHealth{State: HealthUnavailable, Reason: ReasonHealthCheckDisabled, Description: "Health checks are disabled"}},
		{name: "unused", group: "mv", enabled: true, want: TargetHealth{State: HealthUnused, Reason: ReasonNotInUse,
			Description: "Target group is not configured to receive traffic from the load balancer"}},
		{name: "healthy", group: "api", enabled: true, resp: executor.Response{Payload: []byte(`{"statusCode":200}`)}, want: TargetHealth{State: HealthHealthy}},
		{name: "code mismatch", group: "api", enabled: true, resp: executor.Response{Payload: []byte(`{"statusCode":503}`)},
			want: TargetHealth{State: HealthUnhealthy, Reason: ReasonResponseCodeMismatch, Description: "Health checks failed with these codes: [503]"}},
		{name: "timeout", group: "api", enabled: true, resp: executor.Response{FunctionError: "Unhandled", ErrorType: executor.ErrorTypeTimeout, Payload: []byte(`{}`)},
			want: TargetHealth{State: HealthUnhealthy, Reason: ReasonTimeout, Description: "Request timed out"}},
		{name: "deadline", group: "api", enabled: true, err: context.DeadlineExceeded,
			want: TargetHealth{State: HealthUnhealthy, Reason: ReasonTimeout, Description: "Request timed out"}},
		{name: "function error", group: "api", enabled: true, resp: executor.Response{FunctionError: "Unhandled", Payload: []byte(`{"errorType":"Boom","errorMessage":"it broke"}`)},
			want: TargetHealth{State: HealthUnhealthy, Reason: ReasonFailedHealthChecks, Description: "Health checks failed: targetgroup: function api-fn failed: Boom: it broke"}},
		{name: "invalid response", group: "api", enabled: true, resp: executor.Response{Payload: []byte(`{"statusCode":"200"}`)},
			want: TargetHealth{State: HealthUnhealthy, Reason: ReasonFailedHealthChecks, Description: "Health checks failed: "}, wantPrefix: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := loadTestConfig(t)
			for i := range cfg.TargetGroups {
				hc := &cfg.TargetGroups[i].HealthCheck
				hc.Enabled = tt.enabled && cfg.TargetGroups[i].Name == tt.group
				hc.Interval, hc.Timeout, hc.HealthyThreshold, hc.UnhealthyThreshold = 5, 2, 2, 2
			}
			inv := &fakeInvoker{resp: tt.resp, err: tt.err}
			groups, err := New(cfg, Options{Invoker: inv})
			if err != nil {
				t.Fatal(err)
			}
			h := StartHealthChecks(context.Background(), cfg, groups, inv, nil)
			defer h.Stop()
			deadline := time.Now().Add(5 * time.Second)
			for h.State(tt.group) != tt.want.State && time.Now().Before(deadline) {
				time.Sleep(2 * time.Millisecond)
			}
			var got *GroupHealth
			for _, gh := range h.Describe() {
				if gh.TargetGroupName == tt.group {
					got = &gh
				}
			}
			if got == nil || len(got.TargetHealthDescriptions) != 1 {
				t.Fatalf("Describe has no single target for %s: %+v", tt.group, h.Describe())
			}
			d := got.TargetHealthDescriptions[0]
			th := d.TargetHealth
			if tt.wantPrefix && strings.HasPrefix(th.Description, tt.want.Description) {
				th.Description = tt.want.Description
			}
			if th != tt.want || d.Target.ID != "arn:aws:lambda:us-east-1:123456789012:function:api-fn" ||
				got.TargetGroupArn != groups[tt.group].ARN() || got.HealthCheckEnabled != tt.enabled {
				t.Errorf("Describe %s = %+v, want health %+v", tt.group, *got, tt.want)
			}
			if tt.group == "mv" {
				time.Sleep(50 * time.Millisecond) // ten intervals of the test's 5 ms
				inv.mu.Lock()
				calls := inv.calls
				inv.mu.Unlock()
				if calls != 0 {
					t.Errorf("an unused group was health-checked %d times", calls)
				}
			}
		})
	}
}

// switchInvoker answers health checks with a status that the test changes.
type switchInvoker struct{ status atomic.Int64 }

func (s *switchInvoker) Invoke(context.Context, executor.Request) (executor.Response, error) {
	return executor.Response{Payload: []byte(`{"statusCode":` + strconv.FormatInt(s.status.Load(), 10) + `}`)}, nil
}

// TestHealthMetrics: a target that turns unhealthy and back shows each
// state in the target_health gauge and its checks in
// health_checks_total; Forward counts event and answer bytes.
func TestHealthMetrics(t *testing.T) {
	t.Parallel()
	cfg := loadTestConfig(t)
	hc := &cfg.TargetGroups[0].HealthCheck
	hc.Enabled, hc.Interval, hc.Timeout = true, 5, 2
	hc.HealthyThreshold, hc.UnhealthyThreshold = 2, 2
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	inv := &switchInvoker{}
	inv.status.Store(200)
	groups, err := New(cfg, Options{Invoker: inv, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	h := StartHealthChecks(context.Background(), cfg, groups, inv, nil)
	defer h.Stop()
	waitState := func(want string) metricstest.Samples {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			s := metricstest.Gather(t, reg)
			if s.Get("albedo_target_group_target_health", "target_group", "api", "function", "api-fn", "state", want) == 1 {
				if n := s.Sum("albedo_target_group_target_health", "target_group", "api"); n != 1 {
					t.Fatalf("%g states at 1, want exactly one:\n%s", n, s)
				}
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("target never %s:\n%s", want, s)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	waitState(HealthHealthy)
	inv.status.Store(500)
	s := waitState(HealthUnhealthy)
	if s.Get("albedo_target_group_health_checks_total", "target_group", "api", "result", "failure") < 2 {
		t.Errorf("fewer than 2 failed checks counted:\n%s", s)
	}
	inv.status.Store(200)
	s = waitState(HealthHealthy)
	if s.Get("albedo_target_group_health_checks_total", "target_group", "api", "result", "success") < 4 {
		t.Errorf("fewer than 4 passed checks counted:\n%s", s)
	}
	if got := s.Get("albedo_target_group_target_health", "target_group", "mv", "function", "api-fn", "state", HealthUnused); got != 1 {
		t.Errorf("unused group mv: gauge %g, want 1", got)
	}

	var resp fasthttp.Response
	if err := groups["api"].Forward(context.Background(), testRequest(t), testConn, &resp); err != nil {
		t.Fatal(err)
	}
	if got := metricstest.Gather(t, reg).Get("albedo_target_group_lambda_processed_bytes_total", "target_group", "api"); got < 100 {
		t.Errorf("processed bytes %g after one event and answer", got)
	}
}
