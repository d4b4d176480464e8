package executor

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Pricing is what the cost metrics charge per invocation: RequestUSDPerMillion
// per million requests plus GBSecondUSD per GB-second of billed duration
// (memory size in GB, 1 GB = 1024 MB, times the REPORT line's Billed
// Duration). DefaultPricing is AWS's x86 on-demand price (us-east-1, first
// tier); the free tier is never subtracted.
type Pricing struct {
	RequestUSDPerMillion float64
	GBSecondUSD          float64
}

// DefaultPricing is AWS's published x86 Lambda price (us-east-1, first
// tier: https://aws.amazon.com/lambda/pricing/).
var DefaultPricing = Pricing{RequestUSDPerMillion: 0.20, GBSecondUSD: 0.0000166667}

// Metrics are the Lambda service's Prometheus metrics, per function
// (namespace albedo, subsystem function). Create one per process with
// NewMetrics and hand it to every Pool through Options.Metrics: a Pool
// built again (a reload) counts into the same series, and the gauges read
// every Pool attached at scrape time. A nil *Metrics counts nothing.
//
// Counting costs an invocation a few atomic additions on series resolved
// when the Pool was built: no allocation and no lock.
type Metrics struct {
	invocations, errors, throttles, timeouts, coldStarts *prometheus.CounterVec
	billedGBs, cost                                      *prometheus.CounterVec
	duration, initDuration                               *prometheus.HistogramVec
	pricing                                              atomic.Pointer[Pricing]

	mu    sync.Mutex
	fns   map[string]*fnMetrics
	pools map[*Pool]struct{}
}

// fnMetrics are one function's series, resolved once.
type fnMetrics struct {
	m                                                    *Metrics
	invocations, errors, throttles, timeouts, coldStarts prometheus.Counter
	billedGBs, cost                                      prometheus.Counter
	duration, initDuration                               prometheus.Observer
	maxMemoryMB                                          atomic.Int64 // highest Max Memory Used reported
}

// Environment states, the label of albedo_function_environments.
const (
	envInitializing = iota // started, its runtime has not asked for work yet
	envBusy                // running an invocation
	envIdle                // warm, waiting
	envStopping            // evicted, expired or killed, not yet reaped
	envStates
)

var envStateNames = [envStates]string{"initializing", "busy", "idle", "stopping"}

// durationBuckets span a warm no-op (1 ms) to Lambda's 900 s timeout.
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180, 900}

// initBuckets span a Go runtime's init (~10 ms) to InitTimeout.
var initBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// NewMetrics registers the function metrics on reg and returns them, with
// pricing (SetPricing changes it later, e.g. on a reload). It panics if
// they are registered on reg already.
func NewMetrics(reg prometheus.Registerer, pricing Pricing) *Metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "albedo", Subsystem: "function", Name: name, Help: help}, []string{"function"})
	}
	histogram := func(name, help string, buckets []float64) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "albedo", Subsystem: "function", Name: name, Help: help, Buckets: buckets}, []string{"function"})
	}
	m := &Metrics{
		invocations:  counter("invocations_total", "Invocations that ran (or failed to start) in an execution environment: one per REPORT line, health checks and async deliveries included (Lambda's Invocations)."),
		errors:       counter("errors_total", "Invocations that ended in a function error: the function's own, a timeout, a crash, running out of memory, a failed init (Lambda's Errors)."),
		throttles:    counter("throttles_total", "Invocations refused because no execution environment could be had: reserved concurrency, max_concurrency or memory_budget (Lambda's Throttles)."),
		timeouts:     counter("timeouts_total", "Invocations (or inits) that ran past their timeout (REPORT Status: timeout)."),
		coldStarts:   counter("cold_starts_total", "Execution environments started for an invocation (REPORT lines with Init Duration)."),
		billedGBs:    counter("billed_gb_seconds_total", "Billed duration times memory size in GB (1024 MB): the REPORT line's Billed Duration (rounded up to 1 ms, init included on a cold start) times Memory Size."),
		cost:         counter("estimated_cost_usd_total", "Estimated cost at the configured prices (pricing:): requests plus GB-seconds; the free tier is not subtracted."),
		duration:     histogram("duration_seconds", "Invocation duration, the REPORT line's Duration (Lambda's Duration).", durationBuckets),
		initDuration: histogram("init_duration_seconds", "Init phase duration on cold starts, the REPORT line's Init Duration.", initBuckets),
		fns:          make(map[string]*fnMetrics),
		pools:        make(map[*Pool]struct{}),
	}
	m.SetPricing(pricing)
	reg.MustRegister(m.invocations, m.errors, m.throttles, m.timeouts, m.coldStarts, m.billedGBs, m.cost,
		m.duration, m.initDuration, gaugeCollector{m})
	return m
}

// SetPricing sets the rates applied to invocations from now on; what was
// counted keeps its price.
func (m *Metrics) SetPricing(p Pricing) {
	if m != nil {
		m.pricing.Store(&p)
	}
}

// function returns name's series, creating them on first use (at Pool
// construction, never per invocation). nil for a nil Metrics.
func (m *Metrics) function(name string) *fnMetrics {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.fns[name]; f != nil {
		return f
	}
	f := &fnMetrics{
		m:            m,
		invocations:  m.invocations.WithLabelValues(name),
		errors:       m.errors.WithLabelValues(name),
		throttles:    m.throttles.WithLabelValues(name),
		timeouts:     m.timeouts.WithLabelValues(name),
		coldStarts:   m.coldStarts.WithLabelValues(name),
		billedGBs:    m.billedGBs.WithLabelValues(name),
		cost:         m.cost.WithLabelValues(name),
		duration:     m.duration.WithLabelValues(name),
		initDuration: m.initDuration.WithLabelValues(name),
	}
	m.fns[name] = f
	return f
}

// attach makes p's environments part of the gauges; detach takes them out
// (Close).
func (m *Metrics) attach(p *Pool) {
	if m != nil {
		m.mu.Lock()
		m.pools[p] = struct{}{}
		m.mu.Unlock()
	}
}

func (m *Metrics) detach(p *Pool) {
	if m != nil {
		m.mu.Lock()
		delete(m.pools, p)
		m.mu.Unlock()
	}
}

func (f *fnMetrics) coldStart() {
	if f != nil {
		f.coldStarts.Inc()
	}
}

func (f *fnMetrics) throttle() {
	if f != nil {
		f.throttles.Inc()
	}
}

// report counts one finished invocation from its REPORT line: the same
// figures, so the metrics add up to what the log shows.
func (f *fnMetrics) report(r *report, functionError bool) {
	if f == nil {
		return
	}
	f.invocations.Inc()
	if functionError {
		f.errors.Inc()
	}
	if r.Status == "timeout" {
		f.timeouts.Inc()
	}
	f.duration.Observe(r.Duration.Seconds())
	if r.InitDuration > 0 {
		f.initDuration.Observe(r.InitDuration.Seconds())
	}
	gbs := float64(r.MemorySize) / 1024 * float64(r.billedMS()) / 1000
	f.billedGBs.Add(gbs)
	p := f.m.pricing.Load()
	f.cost.Add(p.RequestUSDPerMillion/1e6 + gbs*p.GBSecondUSD)
	for mem := int64(r.MaxMemoryMB); ; {
		old := f.maxMemoryMB.Load()
		if mem <= old || f.maxMemoryMB.CompareAndSwap(old, mem) {
			break
		}
	}
}

// gaugeCollector reports what is read at scrape time: environments by
// state, concurrent executions and the highest memory use, summed over
// every attached Pool (two Pools overlap during a reload).
type gaugeCollector struct{ m *Metrics }

var (
	envDesc = prometheus.NewDesc("albedo_function_environments",
		"Execution environments alive, by state: initializing (its runtime has not asked for work yet), busy, idle (warm), stopping.",
		[]string{"function", "state"}, nil)
	concurrentDesc = prometheus.NewDesc("albedo_function_concurrent_executions",
		"Environments initializing or running an invocation (Lambda's ConcurrentExecutions).",
		[]string{"function"}, nil)
	maxMemoryDesc = prometheus.NewDesc("albedo_function_max_memory_used_bytes",
		"The highest Max Memory Used of the function's REPORT lines since albedo started (MB as reported, times 2^20).",
		[]string{"function"}, nil)
)

func (c gaugeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- envDesc
	ch <- concurrentDesc
	ch <- maxMemoryDesc
}

func (c gaugeCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.Lock()
	fns := make(map[string]*fnMetrics, len(m.fns))
	for name, f := range m.fns {
		fns[name] = f
	}
	pools := make([]*Pool, 0, len(m.pools))
	for p := range m.pools {
		pools = append(pools, p)
	}
	m.mu.Unlock()
	counts := make(map[string]*[envStates]int, len(fns))
	for name := range fns {
		counts[name] = new([envStates]int)
	}
	for _, p := range pools {
		p.countEnvironments(counts)
	}
	for name, n := range counts {
		for s, v := range n {
			ch <- prometheus.MustNewConstMetric(envDesc, prometheus.GaugeValue, float64(v), name, envStateNames[s])
		}
		ch <- prometheus.MustNewConstMetric(concurrentDesc, prometheus.GaugeValue, float64(n[envInitializing]+n[envBusy]), name)
		var mem int64
		if f := fns[name]; f != nil {
			mem = f.maxMemoryMB.Load()
		}
		ch <- prometheus.MustNewConstMetric(maxMemoryDesc, prometheus.GaugeValue, float64(mem)*math.Exp2(20), name)
	}
}

// countEnvironments adds the Pool's environments, by function and state,
// to counts (functions missing from it are added).
func (p *Pool) countEnvironments(counts map[string]*[envStates]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for e := range p.all {
		name := e.fn.cfg.Name
		n := counts[name]
		if n == nil {
			n = new([envStates]int)
			counts[name] = n
		}
		n[e.stateLocked()]++
	}
}

// stateLocked is the environment's state for the gauges. p.mu must be held
// (it guards idle and memReleased).
func (e *env) stateLocked() int {
	switch {
	case e.memReleased || stopReason(e.reason.Load()) != reasonNone || e.isDead():
		return envStopping
	case e.idle:
		return envIdle
	}
	select {
	case <-e.ready:
		return envBusy
	default:
		return envInitializing
	}
}
