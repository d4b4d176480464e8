package async

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
)

// Metrics exposes the queue's Stats to Prometheus (namespace albedo,
// subsystem async), read at scrape time. Create one per process with
// NewMetrics and pass it to every Open (Options.Metrics): the counters of
// a Queue that was closed are kept and the next Queue's are added to
// them, so a queue opened again (a reload) keeps counting into the same
// series. A nil *Metrics does nothing.
type Metrics struct {
	mu   sync.Mutex
	q    *Queue // the open queue, nil when none
	base Stats  // counters of the queues closed before it
}

// NewMetrics registers the queue metrics on reg. It panics if they are
// registered on reg already.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{}
	reg.MustRegister(collector{m})
	return m
}

func (m *Metrics) attach(q *Queue) {
	if m != nil {
		m.mu.Lock()
		m.q = q
		m.mu.Unlock()
	}
}

// detach keeps the counters of a queue that closes.
func (m *Metrics) detach(q *Queue) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.q != q {
		return
	}
	m.base = m.base.plus(q.Stats())
	m.q = nil
}

// plus adds the counters of o (not its gauges, Pending and InFlight) to s.
func (s Stats) plus(o Stats) Stats {
	s.Accepted += o.Accepted
	s.Invocations += o.Invocations
	s.Succeeded += o.Succeeded
	s.Retried += o.Retried
	s.Requeued += o.Requeued
	s.RetriesExhausted += o.RetriesExhausted
	s.Expired += o.Expired
	s.DestinationErrors += o.DestinationErrors
	s.RecordsOnSuccess += o.RecordsOnSuccess
	s.RecordsOnFailure += o.RecordsOnFailure
	return s
}

var (
	receivedDesc   = desc("events_received_total", "Events accepted: Event invocations stored, and destination records stored as events of a destination function (Lambda's AsyncEventsReceived).")
	attemptsDesc   = desc("invocations_total", "Delivery attempts that reached the function.")
	succeededDesc  = desc("events_succeeded_total", "Events whose function succeeded.")
	retriesDesc    = desc("retries_total", "Retries scheduled after a function error (at most maximum_retry_attempts per event).")
	requeuesDesc   = desc("requeues_total", "Returns to the queue after a throttle or a system error, with backoff (not counted as attempts).")
	droppedDesc    = desc("events_dropped_total", "Events given up without a successful run, by reason: retries_exhausted or event_age_exceeded; they go to on_failure when it is set (Lambda's AsyncEventsDropped).", "reason")
	deliveriesDesc = desc("destination_deliveries_total", "Destination records written, by destination: on_success or on_failure.", "destination")
	destErrorsDesc = desc("destination_errors_total", "Destination records that could not be written and were dropped.")
	depthDesc      = desc("queue_depth", "Events stored and not finished: waiting, backing off or being delivered.")
	inFlightDesc   = desc("deliveries_in_flight", "Deliveries running now.")
	oldestDesc     = desc("oldest_event_age_seconds", "Age of the oldest stored event (since it was accepted); 0 when the queue is empty (Lambda's AsyncEventAge, for the oldest).")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("albedo_async_"+name, help, labels, nil)
}

type collector struct{ m *Metrics }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{receivedDesc, attemptsDesc, succeededDesc, retriesDesc, requeuesDesc,
		droppedDesc, deliveriesDesc, destErrorsDesc, depthDesc, inFlightDesc, oldestDesc} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	s, q := c.m.base, c.m.q
	var age time.Duration
	if q != nil {
		cur := q.Stats()
		s = s.plus(cur)
		s.Pending, s.InFlight = cur.Pending, cur.InFlight
		if t, ok := q.oldestEnqueued(); ok {
			age = max(q.opts.Now().Sub(t), 0)
		}
	}
	c.m.mu.Unlock()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(receivedDesc, s.Accepted)
	counter(attemptsDesc, s.Invocations)
	counter(succeededDesc, s.Succeeded)
	counter(retriesDesc, s.Retried)
	counter(requeuesDesc, s.Requeued)
	counter(droppedDesc, s.RetriesExhausted, "retries_exhausted")
	counter(droppedDesc, s.Expired, "event_age_exceeded")
	counter(deliveriesDesc, s.RecordsOnSuccess, "on_success")
	counter(deliveriesDesc, s.RecordsOnFailure, "on_failure")
	counter(destErrorsDesc, s.DestinationErrors)
	gauge(depthDesc, float64(s.Pending))
	gauge(inFlightDesc, float64(s.InFlight))
	gauge(oldestDesc, age.Seconds())
}

// oldestEnqueued is when the oldest stored event was accepted: the first
// key's, since keys are sequence numbers given in commit order. Events that
// do not decode are passed over. false when the queue is empty or closed.
func (q *Queue) oldestEnqueued() (t time.Time, ok bool) {
	if q.closed.Load() {
		return time.Time{}, false
	}
	_ = q.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		n := 0
		for k, v := c.First(); k != nil && n < 16; k, v = c.Next() {
			n++
			if len(k) != 8 {
				continue
			}
			if ev, err := decodeEvent(binary.BigEndian.Uint64(k), v); err == nil {
				t, ok = ev.Enqueued, true
				return nil
			}
		}
		return nil
	})
	return t, ok
}
