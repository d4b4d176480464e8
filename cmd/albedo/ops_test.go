package main

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/internal/metricstest"
)

// TestConfigMetrics: the first load is the last successful one; a failed
// reload sets last_reload_successful to 0 and keeps the time of the
// config still serving; a good one moves it.
func TestConfigMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	loaded := time.Unix(1700000000, 0)
	c := newConfigMetrics(reg, loaded)
	steps := []struct {
		name         string
		reload       func()
		ok, failures float64
		successes    float64
		at           float64
	}{
		{name: "loaded", reload: func() {}, ok: 1, at: 1700000000},
		{name: "failed reload", reload: func() { c.reloaded(false, loaded.Add(time.Minute)) }, ok: 0, failures: 1, at: 1700000000},
		{name: "good reload", reload: func() { c.reloaded(true, loaded.Add(time.Hour)) }, ok: 1, failures: 1, successes: 1, at: 1700003600},
	}
	for _, s := range steps {
		s.reload()
		m := metricstest.Gather(t, reg)
		if m.Get("albedo_config_last_reload_successful") != s.ok || m.Get("albedo_config_reloads_total", "result", "failure") != s.failures ||
			m.Get("albedo_config_reloads_total", "result", "success") != s.successes || m.Get("albedo_config_last_reload_success_timestamp_seconds") != s.at {
			t.Errorf("%s:\n%s", s.name, m)
		}
	}
}

// TestMetricsFormats: /metrics answers in the text format by default and
// in Prometheus's protobuf format when the scraper asks for it.
func TestMetricsFormats(t *testing.T) {
	t.Parallel()
	e := startE2E(t, parseE2EConfig(t, `
listeners:
  - port: 8080
    default_action: {fixed_response: {status_code: 200}}
functions:
  - name: albecho
    runtime: provided.al2023
    code: {{albecho}}
`))
	tests := []struct{ accept, want string }{
		{"", "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"},
		{"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"},
	}
	for _, tt := range tests {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI(e.admin + "/metrics")
		if tt.accept != "" {
			req.Header.Set("Accept", tt.accept)
		}
		if err := fasthttp.DoTimeout(req, resp, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if ct := string(resp.Header.ContentType()); resp.StatusCode() != 200 || !strings.HasPrefix(ct, tt.want) || len(resp.Body()) == 0 {
			t.Errorf("Accept %q: %d %q (%d bytes), want 200 %q", tt.accept, resp.StatusCode(), ct, len(resp.Body()), tt.want)
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	}
}
