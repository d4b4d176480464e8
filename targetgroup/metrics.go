package targetgroup

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the target groups' Prometheus metrics (namespace albedo,
// subsystem target_group). Create one per process with NewMetrics and pass
// it in Options.Metrics every time groups are built: rebuilt groups (a
// reload) count into the same series, and the health states are read from
// the HealthChecker started last over groups built with it. A nil
// *Metrics counts nothing.
type Metrics struct {
	processed *prometheus.CounterVec
	checks    *prometheus.CounterVec

	mu     sync.Mutex
	health *HealthChecker
}

// groupMetrics are one group's series, resolved when the group is built.
type groupMetrics struct {
	m                      *Metrics
	processed              prometheus.Counter
	checksOK, checksFailed prometheus.Counter
}

var healthDesc = prometheus.NewDesc("albedo_target_group_target_health",
	"1 for the target's current health state (initial, healthy, unhealthy, unused, unavailable), 0 for the others, as /targetgroups reports it.",
	[]string{"target_group", "function", "state"}, nil)

// NewMetrics registers the target-group metrics on reg. It panics if they
// are registered on reg already.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "albedo", Subsystem: "target_group", Name: "lambda_processed_bytes_total",
			Help: "Bytes of the events sent to the group's function and of its answers (CloudWatch's LambdaTargetProcessedBytes)."}, []string{"target_group"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "albedo", Subsystem: "target_group", Name: "health_checks_total",
			Help: "Health checks run, by result: success or failure."}, []string{"target_group", "result"}),
	}
	reg.MustRegister(m.processed, m.checks, healthCollector{m})
	return m
}

// group resolves name's series (nil for a nil Metrics).
func (m *Metrics) group(name string) *groupMetrics {
	if m == nil {
		return nil
	}
	return &groupMetrics{
		m:            m,
		processed:    m.processed.WithLabelValues(name),
		checksOK:     m.checks.WithLabelValues(name, "success"),
		checksFailed: m.checks.WithLabelValues(name, "failure"),
	}
}

// watch makes h the checker whose states are reported; unwatch forgets it
// unless a newer one took its place.
func (m *Metrics) watch(h *HealthChecker) {
	if m != nil {
		m.mu.Lock()
		m.health = h
		m.mu.Unlock()
	}
}

func (m *Metrics) unwatch(h *HealthChecker) {
	if m != nil {
		m.mu.Lock()
		if m.health == h {
			m.health = nil
		}
		m.mu.Unlock()
	}
}

func (gm *groupMetrics) parent() *Metrics {
	if gm == nil {
		return nil
	}
	return gm.m
}

// bytes counts an event sent and the answer received.
func (gm *groupMetrics) bytes(event, answer int) {
	if gm != nil {
		gm.processed.Add(float64(event + answer))
	}
}

func (gm *groupMetrics) healthCheck(ok bool) {
	switch {
	case gm == nil:
	case ok:
		gm.checksOK.Inc()
	default:
		gm.checksFailed.Inc()
	}
}

type healthCollector struct{ m *Metrics }

func (c healthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- healthDesc }

func (c healthCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	h := c.m.health
	c.m.mu.Unlock()
	if h == nil {
		return
	}
	for _, st := range h.order {
		if st.g.function == "" {
			continue
		}
		cur := st.state.Load().State
		for _, state := range HealthStates {
			v := 0.0
			if state == cur {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(healthDesc, prometheus.GaugeValue, v, st.g.name, st.g.function, state)
		}
	}
}
