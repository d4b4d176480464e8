package balancer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/internal/metricstest"
	"github.com/albedo-lb/albedo/lambdaadapter"
	"github.com/albedo-lb/albedo/targetgroup"
)

// TestMetrics: after a scripted mix of requests over loopback (successes,
// a function error, an invalid response, a throttle, a redirect, a fixed
// response, the default rule, a 413 and a TRACE refused before any rule),
// every counter equals the known count, the Lambda errors are split into
// user and internal by reason, and open connections fall back to 0 when
// the client closes them.
func TestMetrics(t *testing.T) {
	t.Parallel()
	fs, groups := fakes("ok", "fail", "invalid", "thr")
	fs["fail"].err = &targetgroup.FunctionError{Function: "f", Type: "Boom", Message: "it broke"}
	fs["invalid"].err = &lambdaadapter.ResponseError{Reason: lambdaadapter.ReasonInvalidResponse, Detail: "statusCode is a string"}
	fs["thr"].err = targetgroup.ErrThrottled
	path := func(p string) []config.Condition { return []config.Condition{{PathPattern: []string{p}}} }
	cfg := listenerConfig(&config.Action{FixedResponse: &config.FixedResponse{StatusCode: 404}},
		config.Rule{Priority: 10, Conditions: path("/ok"), Action: forwardTo("ok")},
		config.Rule{Priority: 20, Conditions: path("/fail"), Action: forwardTo("fail")},
		config.Rule{Priority: 30, Conditions: path("/invalid"), Action: forwardTo("invalid")},
		config.Rule{Priority: 40, Conditions: path("/throttle"), Action: forwardTo("thr")},
		config.Rule{Priority: 50, Conditions: path("/redir"), Action: &config.Action{Redirect: &config.Redirect{
			Protocol: "#{protocol}", Host: "example.com", Port: "#{port}", Path: "/#{path}", Query: "#{query}", StatusCode: "HTTP_301"}}},
		config.Rule{Priority: 60, Conditions: path("/fixed"), Action: &config.Action{FixedResponse: &config.FixedResponse{StatusCode: 200}}},
	)
	reg := prometheus.NewRegistry()
	_, base := start(t, cfg, groups, Options{Metrics: NewMetrics(reg)})

	script := []struct {
		method, path string
		n, status    int
	}{
		{"GET", "/ok", 3, 200},
		{"GET", "/fail", 2, 502},
		{"GET", "/invalid", 1, 502},
		{"GET", "/throttle", 1, 502},
		{"GET", "/redir", 1, 301},
		{"GET", "/fixed", 1, 200},
		{"GET", "/nowhere", 2, 404},
		{"TRACE", "/", 1, 405},
	}
	for _, s := range script {
		for range s.n {
			if got := do(t, s.method, base+s.path, nil).StatusCode(); got != s.status {
				t.Fatalf("%s %s: %d, want %d", s.method, s.path, got, s.status)
			}
		}
	}
	if got := metricstest.Gather(t, reg).Get("albedo_lb_open_connections", "listener", "0"); got < 1 {
		t.Errorf("open connections = %g with the client's keep-alive connection open", got)
	}
	// Answered while the body is still coming, then closed (Linger).
	big := do(t, "POST", base+"/ok", func(r *fasthttp.Request) { r.SetBody(make([]byte, lambdaadapter.MaxRequestBodySize+1)) })
	if big.StatusCode() != 413 {
		t.Fatalf("oversized body: %d, want 413", big.StatusCode())
	}
	s := metricstest.Gather(t, reg)

	type c = []string
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"albedo_lb_requests_total", c{"listener", "0", "rule", "10"}, 4},
		{"albedo_lb_requests_total", c{"listener", "0", "rule", "20"}, 2},
		{"albedo_lb_requests_total", c{"listener", "0", "rule", "0"}, 2},
		{"albedo_lb_requests_total", c{"listener", "0", "rule", "-"}, 1},
		{"albedo_lb_responses_total", c{"listener", "0", "rule", "10", "producer", "function", "code_class", "2xx"}, 3},
		{"albedo_lb_responses_total", c{"listener", "0", "rule", "10", "producer", "albedo", "code_class", "4xx"}, 1},
		{"albedo_lb_responses_total", c{"listener", "0", "rule", "20", "producer", "albedo", "code_class", "5xx"}, 2},
		{"albedo_lb_responses_total", c{"listener", "0", "rule", "30", "producer", "albedo", "code_class", "5xx"}, 1},
		{"albedo_lb_responses_total", c{"listener", "0", "rule", "40", "producer", "albedo", "code_class", "5xx"}, 1},
		{"albedo_lb_responses_total", c{"listener", "0", "rule", "50", "producer", "albedo", "code_class", "3xx"}, 1},
		{"albedo_lb_responses_total", c{"listener", "0", "rule", "60", "producer", "albedo", "code_class", "2xx"}, 1},
		{"albedo_lb_responses_total", c{"listener", "0", "rule", "0", "producer", "albedo", "code_class", "4xx"}, 2},
		{"albedo_lb_responses_total", c{"listener", "0", "rule", "-", "producer", "albedo", "code_class", "4xx"}, 1},
		{"albedo_lb_lambda_user_errors_total", c{"target_group", "ok", "reason", "LambdaRequestTooLarge"}, 1},
		{"albedo_lb_lambda_user_errors_total", c{"target_group", "fail", "reason", "LambdaUnhandled"}, 2},
		{"albedo_lb_lambda_user_errors_total", c{"target_group", "invalid", "reason", "LambdaInvalidResponse"}, 1},
		{"albedo_lb_lambda_user_errors_total", c{"target_group", "thr", "reason", "LambdaThrottling"}, 1},
		{"albedo_lb_lambda_internal_errors_total", c{"target_group", "ok", "reason", "LambdaUnhandledException"}, 0},
		{"albedo_lb_redirects_total", c{"listener", "0"}, 1},
		{"albedo_lb_fixed_responses_total", c{"listener", "0"}, 3},
		// /ok ×4: 1 rule each, /fail ×2: 2, /invalid: 3, /throttle: 4,
		// /redir: 5, /fixed: 6, default ×2: all 6; TRACE none.
		{"albedo_lb_rule_evaluations_total", c{"listener", "0"}, 4 + 4 + 3 + 4 + 5 + 6 + 12},
		{"albedo_lb_rejected_requests_total", c{"listener", "0", "code", "405"}, 1},
		{"albedo_lb_request_duration_seconds_count", c{"listener", "0", "rule", "10"}, 4},
		{"albedo_lb_target_duration_seconds_count", c{"listener", "0", "rule", "10", "target_group", "ok"}, 3},
		{"albedo_lb_target_duration_seconds_count", c{"listener", "0", "rule", "20", "target_group", "fail"}, 2},
	}
	for _, ck := range checks {
		if got := s.Get(ck.name, ck.labels...); got != ck.want || !s.Has(ck.name, ck.labels...) {
			t.Errorf("%s%v = %g, want %g", ck.name, ck.labels, got, ck.want)
		}
	}
	if got := s.Sum("albedo_lb_lambda_internal_errors_total"); got != 0 {
		t.Errorf("internal errors = %g, want 0", got)
	}
	if got := s.Get("albedo_lb_processed_bytes_total", "listener", "0"); got < float64(lambdaadapter.MaxRequestBodySize)/1000 {
		t.Errorf("processed bytes = %g", got)
	}

	testClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for metricstest.Gather(t, reg).Get("albedo_lb_open_connections", "listener", "0") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("open connections never fell back to 0 after the client closed them")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", s)
	}
}

// TestMetricsSurviveRebuild: a Balancer built again on the same Metrics
// (a reload) counts into the same series.
func TestMetricsSurviveRebuild(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	_, groups := fakes("g")
	for range 2 {
		b, err := New(listenerConfig(forwardTo("g")), groups, Options{Metrics: m})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		do(t, "GET", "http://"+b.Addrs()[0].String()+"/", nil)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		b.Shutdown(ctx)
		cancel()
	}
	s := metricstest.Gather(t, reg)
	if got := s.Get("albedo_lb_requests_total", "listener", "0", "rule", "0"); got != 2 {
		t.Errorf("requests = %g over two balancers, want 2:\n%s", got, s)
	}
	if strings.Count(s.String(), "albedo_lb_requests_total{") != 2 { // rule "0" and "-"
		t.Errorf("series duplicated:\n%s", s)
	}
}

// TestMetricsDurationOnOptionsClock: request_duration_seconds is measured
// on Options.Now, as the access log's times are. With a clock that stands
// still every duration is 0; measured from fasthttp's wall-clock request
// time instead, it was decades negative.
func TestMetricsDurationOnOptionsClock(t *testing.T) {
	t.Parallel()
	_, groups := fakes("g")
	reg := prometheus.NewRegistry()
	still := time.Unix(1000, 0)
	_, base := start(t, listenerConfig(forwardTo("g")), groups, Options{Metrics: NewMetrics(reg), Now: func() time.Time { return still }})
	for range 2 {
		do(t, "GET", base+"/", nil)
	}
	s := metricstest.Gather(t, reg)
	if got := s.Get("albedo_lb_request_duration_seconds_count", "listener", "0", "rule", "0"); got != 2 {
		t.Errorf("request_duration_seconds_count = %g, want 2:\n%s", got, s)
	}
	if got := s.Get("albedo_lb_request_duration_seconds_sum", "listener", "0", "rule", "0"); got != 0 {
		t.Errorf("request_duration_seconds_sum = %g on a clock that stands still, want 0", got)
	}
}
