package async

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// finish ends ev with condition: it writes the destination record, then
// deletes the event. A record for a destination function is stored as
// that function's new event in the same transaction that deletes ev, so
// exactly one of the two exists at any time. A file:// record is appended
// and synced before the delete: a crash in between repeats the attempt
// and the record (at-least-once, like the delivery itself).
func (q *Queue) finish(ev *event, cfg Config, condition, functionError string, resp []byte) {
	dst := cfg.OnFailure
	if condition == ConditionSuccess {
		dst = cfg.OnSuccess
	}
	d, _ := parseDestination(dst) // validated when set
	var rec []byte
	if !d.none() {
		var err error
		if rec, err = marshalRecord(newRecord(ev, condition, q.opts.Now(), functionError, resp)); err != nil {
			q.destError(ev, dst, err) // cannot happen: every field is valid JSON
			d = destination{}
		}
	}
	if d.File != "" {
		if err := q.appendFile(d.File, rec); err != nil {
			q.destError(ev, dst, err)
		} else {
			q.st.recorded(condition)
		}
	}
	var next *event
	var val []byte
	if d.Function != "" {
		if fn, ok := q.inv.Function(d.Function); ok {
			next = q.newEvent(fn, bytes.TrimSuffix(rec, []byte{'\n'}))
			val = appendEvent(nil, next)
		} else {
			q.destError(ev, dst, fmt.Errorf("destination function %s: not found", d.Function))
		}
	}
	err := q.w.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		if err := b.Delete(eventKey(ev.Key)); err != nil {
			return err
		}
		if next != nil {
			return putNew(b, next, val)
		}
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrClosed) {
			// Still stored: it is attempted again after a restart.
			q.log.Error("cannot finish event", "function", ev.Function, "request_id", ev.RequestID, "err", err)
		}
		return
	}
	q.st.pending.Add(-1)
	if next != nil {
		q.st.recorded(condition)
		q.accepted(next)
	}
}

// destError counts and logs a record that could not be delivered. Like
// Lambda, the record is then dropped rather than retried forever.
func (q *Queue) destError(ev *event, dst string, err error) {
	q.st.destErrors.Add(1)
	q.log.Warn("destination record dropped", "function", ev.Function, "request_id", ev.RequestID,
		"destination", dst, "err", err)
}

// marshalRecord encodes r as one line of JSON ending in '\n', without
// HTML escaping.
func marshalRecord(r Record) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// appendFile appends line to path (created 0644 if missing) and fsyncs.
// One write with O_APPEND under a mutex keeps lines whole.
func (q *Queue) appendFile(path string, line []byte) error {
	q.fileMu.Lock()
	defer q.fileMu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
