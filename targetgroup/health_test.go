package targetgroup

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

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
