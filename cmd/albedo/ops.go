package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/balancer"
	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/internal/intake"
	"github.com/albedo-lb/albedo/targetgroup"
	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/async"
	"github.com/albedo-lb/albedo/targetgroup/executor/invokeapi"
)

// ops is what `albedo serve` exposes for operations on the admin address:
// /metrics (one Prometheus registry holding every package's metrics),
// /healthz, /readyz and /targetgroups. There is one per process: the
// metric objects are handed to every constructor, so parts built again
// (a reload) keep counting into the same series.
//
// Access: /healthz and /readyz are public (they reveal nothing but
// whether albedo runs and serves: probes send whatever Host they like);
// /metrics and /targetgroups are admitted as the Lambda API is (SigV4
// with admin.credentials, else the loopback-Host and no-Origin check
// against DNS rebinding), or by "Authorization: Bearer <admin.ops_token>"
// from anywhere, since a Prometheus scraper cannot sign SigV4. All four
// are GET/HEAD only (invokeapi.Route).
type ops struct {
	reg      *prometheus.Registry
	balancer *balancer.Metrics
	groups   *targetgroup.Metrics
	executor *executor.Metrics
	async    *async.Metrics
	config   *configMetrics
	log      *slog.Logger

	notReady atomic.Pointer[string] // why /readyz answers 503; nil: ready
	health   atomic.Pointer[targetgroup.HealthChecker]
	queue    atomic.Pointer[async.Queue]
}

// newOps registers every metric on a new registry. bodies is the
// process's body budget, read at scrape time.
func newOps(cfg *config.Config, bodies *intake.Budget, log *slog.Logger) *ops {
	reg := prometheus.NewRegistry()
	o := &ops{
		reg:      reg,
		balancer: balancer.NewMetrics(reg),
		groups:   targetgroup.NewMetrics(reg),
		executor: executor.NewMetrics(reg, pricing(cfg)),
		async:    async.NewMetrics(reg),
		config:   newConfigMetrics(reg, time.Now()),
		log:      log.With("component", "ops"),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		budgetCollector{bodies},
	)
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "albedo_build_info", Help: "Always 1; the labels name the build.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()}})
	build.Set(1)
	reg.MustRegister(build)
	o.setNotReady("starting")
	return o
}

// pricing is the config's pricing: section for the cost metrics.
func pricing(cfg *config.Config) executor.Pricing {
	return executor.Pricing{RequestUSDPerMillion: cfg.Pricing.RequestUSDPerMillion, GBSecondUSD: cfg.Pricing.GBSecondUSD}
}

// setNotReady makes /readyz answer 503 with reason; setReady makes it 200
// (unless the async queue is closed).
func (o *ops) setNotReady(reason string) { o.notReady.Store(&reason) }
func (o *ops) setReady()                 { o.notReady.Store(nil) }

// ready reports whether albedo serves: its config loaded (a process
// without one never gets here), every listener bound and serving, the
// async queue open.
func (o *ops) ready() (bool, string) {
	if r := o.notReady.Load(); r != nil {
		return false, *r
	}
	if q := o.queue.Load(); q != nil && q.Closed() {
		return false, "async queue closed"
	}
	return true, ""
}

// routes are the admin address's operations endpoints.
func (o *ops) routes() []invokeapi.Route {
	return []invokeapi.Route{
		{Path: "/metrics", Handler: o.serveMetrics},
		{Path: "/healthz", Public: true, Handler: func(ctx *fasthttp.RequestCtx) { writeOpsJSON(ctx, 200, status{Status: "ok"}) }},
		{Path: "/readyz", Public: true, Handler: o.serveReady},
		{Path: "/targetgroups", Handler: o.serveTargetGroups},
	}
}

// status is the body of /healthz and /readyz.
type status struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func (o *ops) serveReady(ctx *fasthttp.RequestCtx) {
	if ok, why := o.ready(); !ok {
		writeOpsJSON(ctx, fasthttp.StatusServiceUnavailable, status{Status: "not ready", Reason: why})
		return
	}
	writeOpsJSON(ctx, fasthttp.StatusOK, status{Status: "ready"})
}

// serveTargetGroups answers with every target group's target health,
// modelled on DescribeTargetHealth.
func (o *ops) serveTargetGroups(ctx *fasthttp.RequestCtx) {
	h := o.health.Load()
	if h == nil {
		writeOpsJSON(ctx, fasthttp.StatusServiceUnavailable, status{Status: "not ready", Reason: "starting: target groups not built yet"})
		return
	}
	writeOpsJSON(ctx, fasthttp.StatusOK, struct {
		TargetGroups []targetgroup.GroupHealth `json:"TargetGroups"`
	}{h.Describe()})
}

// serveMetrics writes the registry in the format the scraper asks for
// (text by default, protobuf when requested). A collector's error is a
// 500, as promhttp answers by default: the scrape fails visibly.
func (o *ops) serveMetrics(ctx *fasthttp.RequestCtx) {
	fams, err := o.reg.Gather()
	if err != nil {
		o.log.Error("cannot gather metrics", "err", err)
		ctx.Error("gathering metrics failed: "+err.Error(), fasthttp.StatusInternalServerError)
		return
	}
	format := expfmt.NegotiateAccept(http.Header{"Accept": {string(ctx.Request.Header.Peek(fasthttp.HeaderAccept))}}, expfmt.DefaultAcceptedFormats()...)
	ctx.SetContentType(string(format))
	enc := expfmt.NewEncoder(ctx, format)
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			o.log.Error("cannot encode metrics", "err", err)
			return
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		_ = c.Close()
	}
}

func writeOpsJSON(ctx *fasthttp.RequestCtx, code int, v any) {
	b, _ := json.Marshal(v)
	ctx.SetStatusCode(code)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	ctx.SetBody(append(b, '\n'))
}

// configMetrics are the config's metrics. The first load counts as the
// last successful one, as in Prometheus's own metrics; reloaded records a
// reload (SIGHUP, a changed file).
type configMetrics struct {
	reloadsOK, reloadsFailed prometheus.Counter
	lastOK, lastOKTime       prometheus.Gauge
}

func newConfigMetrics(reg prometheus.Registerer, loaded time.Time) *configMetrics {
	reloads := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "albedo_config_reloads_total",
		Help: "Config reloads attempted, by result: success or failure (the old config keeps serving)."}, []string{"result"})
	c := &configMetrics{
		reloadsOK:     reloads.WithLabelValues("success"),
		reloadsFailed: reloads.WithLabelValues("failure"),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "albedo_config_last_reload_successful",
			Help: "1 when the last config load or reload succeeded, 0 when it failed."}),
		lastOKTime: prometheus.NewGauge(prometheus.GaugeOpts{Name: "albedo_config_last_reload_success_timestamp_seconds",
			Help: "When the config serving now was loaded (Unix seconds)."}),
	}
	reg.MustRegister(reloads, c.lastOK, c.lastOKTime)
	c.lastOK.Set(1)
	c.lastOKTime.Set(float64(loaded.UnixNano()) / 1e9)
	return c
}

// reloaded records one reload attempt that ended at at.
func (c *configMetrics) reloaded(ok bool, at time.Time) {
	if !ok {
		c.reloadsFailed.Inc()
		c.lastOK.Set(0)
		return
	}
	c.reloadsOK.Inc()
	c.lastOK.Set(1)
	c.lastOKTime.Set(float64(at.UnixNano()) / 1e9)
}

// budgetCollector reads body_memory_budget's figures at scrape time.
type budgetCollector struct{ b *intake.Budget }

var (
	budgetInUseDesc = prometheus.NewDesc("albedo_body_budget_bytes_in_use",
		"Bytes reserved now for request bodies, by every listener and the admin API together.", nil, nil)
	budgetLimitDesc = prometheus.NewDesc("albedo_body_budget_limit_bytes",
		"body_memory_budget, in bytes.", nil, nil)
	budgetRefusedDesc = prometheus.NewDesc("albedo_body_budget_refused_total",
		"Request bodies refused because body_memory_budget was in use (503 on listeners, 429 on the admin API).", nil, nil)
)

func (c budgetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- budgetInUseDesc
	ch <- budgetLimitDesc
	ch <- budgetRefusedDesc
}

func (c budgetCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.b.Stats()
	ch <- prometheus.MustNewConstMetric(budgetInUseDesc, prometheus.GaugeValue, float64(s.InUse))
	ch <- prometheus.MustNewConstMetric(budgetLimitDesc, prometheus.GaugeValue, float64(s.Limit))
	ch <- prometheus.MustNewConstMetric(budgetRefusedDesc, prometheus.CounterValue, float64(s.Refused))
}
