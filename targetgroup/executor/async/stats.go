package async

import "sync/atomic"

// Stats is a snapshot of the queue's counters since Open (Pending also
// counts events recovered from the database).
type Stats struct {
	Accepted          int64 // events stored: Enqueue and destination records for functions
	Invocations       int64 // delivery attempts that reached the function
	Succeeded         int64 // events whose function succeeded
	Retried           int64 // retries scheduled after a function error
	Requeued          int64 // returns to the queue after a throttle or system error
	RetriesExhausted  int64 // events failed with condition RetriesExhausted
	Expired           int64 // events failed with condition EventAgeExceeded
	DestinationErrors int64 // destination records that could not be written
	RecordsOnSuccess  int64 // destination records written to on_success
	RecordsOnFailure  int64 // destination records written to on_failure
	Pending           int64 // events stored and not yet finished
	InFlight          int64 // deliveries running now
}

type counters struct {
	accepted, invocations, succeeded, retried, requeued atomic.Int64
	exhausted, expired, destErrors, pending, inFlight   atomic.Int64
	onSuccess, onFailure                                atomic.Int64
}

// recorded counts a destination record written for condition.
func (c *counters) recorded(condition string) {
	if condition == ConditionSuccess {
		c.onSuccess.Add(1)
	} else {
		c.onFailure.Add(1)
	}
}

// Stats returns the current counters.
func (q *Queue) Stats() Stats {
	return Stats{
		Accepted:          q.st.accepted.Load(),
		Invocations:       q.st.invocations.Load(),
		Succeeded:         q.st.succeeded.Load(),
		Retried:           q.st.retried.Load(),
		Requeued:          q.st.requeued.Load(),
		RetriesExhausted:  q.st.exhausted.Load(),
		Expired:           q.st.expired.Load(),
		DestinationErrors: q.st.destErrors.Load(),
		RecordsOnSuccess:  q.st.onSuccess.Load(),
		RecordsOnFailure:  q.st.onFailure.Load(),
		Pending:           q.st.pending.Load(),
		InFlight:          q.st.inFlight.Load(),
	}
}
