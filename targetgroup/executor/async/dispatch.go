package async

import (
	"errors"
	"log/slog"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// worker delivers the items the scheduler hands it until the scheduler
// stops.
func (q *Queue) worker() {
	defer q.workers.Done()
	for it := range q.sched.work {
		if !q.closed.Load() { // after Close, leave the event stored
			q.st.inFlight.Add(1)
			q.deliver(it)
			q.st.inFlight.Add(-1)
		}
		q.sched.finished <- it.function
	}
}

// load reads a stored event; nil when it is no longer stored.
func (q *Queue) load(key uint64) (*event, error) {
	var ev *event
	err := q.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketEvents).Get(eventKey(key))
		if v == nil {
			return nil
		}
		var err error
		ev, err = decodeEvent(key, v)
		return err
	})
	return ev, err
}

// deliver makes one delivery attempt of the event behind it and records
// its outcome: finished (to a destination), retried, or requeued.
func (q *Queue) deliver(it item) {
	ev, err := q.load(it.key)
	if err != nil || ev == nil {
		if err != nil {
			q.log.Error("cannot load event", "key", it.key, "err", err)
		}
		return
	}
	cfg := q.effective(ev.Function)
	if q.opts.Now().Sub(ev.Enqueued) >= cfg.MaximumEventAge {
		q.st.expired.Add(1)
		q.finish(ev, cfg, ConditionEventAgeExceeded, ev.LastFunctionError, ev.LastResponse)
		return
	}
	if fn, ok := q.inv.Function(ev.Function); ok && fn.Reserved == 0 {
		// Lambda sends events of a function with reserved concurrency 0
		// straight to on-failure, without retries.
		q.st.exhausted.Add(1)
		q.finish(ev, cfg, ConditionRetriesExhausted, "", nil)
		return
	}
	resp, err := q.inv.Invoke(q.ctx, executor.Request{Function: ev.Function, RequestID: ev.RequestID, Payload: ev.Payload})
	if err != nil {
		if q.ctx.Err() != nil {
			return // Close gave up waiting; the event stays stored
		}
		ev.Throttles++
		ev.LastStatus = 500
		if errors.Is(err, executor.ErrThrottled) {
			ev.LastStatus = 429
			q.debug("event throttled", ev, slog.Int("attempt", ev.Throttles))
		} else {
			q.log.Warn("async delivery failed", "function", ev.Function, "request_id", ev.RequestID, "err", err)
		}
		ev.Next = q.opts.Now().Add(q.backoff(ev.Throttles))
		q.st.requeued.Add(1)
		q.reschedule(ev, cfg)
		return
	}
	q.st.invocations.Add(1)
	ev.Invokes++
	ev.Throttles = 0
	ev.LastStatus = 200
	if resp.FunctionError == "" {
		q.st.succeeded.Add(1)
		q.finish(ev, cfg, ConditionSuccess, "", resp.Payload)
		return
	}
	ev.LastFunctionError, ev.LastResponse = resp.FunctionError, resp.Payload
	if ev.Invokes > cfg.MaximumRetryAttempts {
		q.st.exhausted.Add(1)
		q.finish(ev, cfg, ConditionRetriesExhausted, resp.FunctionError, resp.Payload)
		return
	}
	q.debug("function error; retrying", ev, slog.Int("attempt", ev.Invokes))
	ev.Next = q.opts.Now().Add(q.retryDelay(ev.Invokes))
	q.st.retried.Add(1)
	q.reschedule(ev, cfg)
}

// reschedule stores ev's new state and schedules its next attempt, no
// later than its maximum age (when it then goes to on_failure).
func (q *Queue) reschedule(ev *event, cfg Config) {
	val := appendEvent(nil, ev)
	err := q.w.write(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEvents).Put(eventKey(ev.Key), val)
	})
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return
		}
		// The previous state is still stored; after a restart the event
		// may get an extra attempt.
		q.log.Error("cannot store event state", "function", ev.Function, "request_id", ev.RequestID, "err", err)
	}
	due := ev.Next
	if exp := ev.Enqueued.Add(cfg.MaximumEventAge); exp.Before(due) {
		due = exp
	}
	q.sched.add(item{key: ev.Key, function: ev.Function, due: due})
}

// backoff is the wait after the n-th consecutive throttle or system
// error: BackoffMin doubled n-1 times, at most BackoffMax. No jitter:
// events are spread by their own arrival times.
func (q *Queue) backoff(n int) time.Duration {
	d := q.opts.BackoffMin
	for i := 1; i < n && d < q.opts.BackoffMax; i++ {
		d *= 2
	}
	return min(d, q.opts.BackoffMax)
}

// retryDelay is the wait before retry n (1-based) after a function error.
func (q *Queue) retryDelay(n int) time.Duration {
	d := q.opts.RetryDelays
	return d[min(n, len(d))-1]
}

func (q *Queue) debug(msg string, ev *event, attrs ...slog.Attr) {
	if !q.log.Enabled(q.ctx, slog.LevelDebug) {
		return
	}
	attrs = append(attrs, slog.String("function", ev.Function), slog.String("request_id", ev.RequestID))
	q.log.LogAttrs(q.ctx, slog.LevelDebug, msg, attrs...)
}
