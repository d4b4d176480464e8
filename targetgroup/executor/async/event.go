package async

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/albedo-lb/albedo/targetgroup/executor/statefile"
)

// event is one stored asynchronous invocation: the value under its key in
// the events bucket. Keys are the bucket's sequence numbers (8 bytes, big
// endian), so inserts append to the B+tree and a group commit dirties few
// pages; random request ids as keys cost about twice as much per fsync. Everything needed to resume it after a restart
// lives here; the in-memory schedule is rebuilt from these on Open.
type event struct {
	Key         uint64 // bucket key, not part of the encoding
	RequestID   string
	Function    string
	FunctionARN string
	Enqueued    time.Time // when the 202 was due: the start of MaximumEventAge
	Next        time.Time // earliest next delivery attempt
	// Invokes counts attempts that reached the function
	// (approximateInvokeCount).
	Invokes int
	// Throttles counts consecutive throttle/system-error requeues since the
	// last attempt that reached the function; it drives the backoff.
	Throttles int
	// LastStatus is the statusCode of the last attempt: 200 when it reached
	// the function, 429 throttled, 500 other error, 0 none yet.
	LastStatus int
	// LastFunctionError and LastResponse are the last function error
	// ("Unhandled") and its error payload, kept for a later EventAgeExceeded
	// record.
	LastFunctionError string
	LastResponse      []byte
	Payload           []byte
}

// Encoding versions. Version 2 adds a CRC-32C of the rest of the value, so
// that damage inside a value (which bbolt's page structure cannot reveal)
// is found at Open and by `albedo state check`, and salvage keeps only
// intact events. Version 1 values (written before) are still read.
const (
	eventVersion1 = 1
	eventVersion  = 2
)

// appendEvent appends ev's binary encoding to b:
//
//	version(1)=2 crc32c(4, big endian, of everything after it)
//	enqueued(8) next(8) invokes throttles laststatus (uvarints)
//	requestID function arn lastFunctionError lastResponse (uvarint length + bytes)
//	payload (the rest)
func appendEvent(b []byte, ev *event) []byte {
	b, start := statefile.BeginSealed(b, eventVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(ev.Enqueued.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(ev.Next.UnixNano()))
	b = binary.AppendUvarint(b, uint64(ev.Invokes))
	b = binary.AppendUvarint(b, uint64(ev.Throttles))
	b = binary.AppendUvarint(b, uint64(ev.LastStatus))
	b = appendBytes(b, []byte(ev.RequestID))
	b = appendBytes(b, []byte(ev.Function))
	b = appendBytes(b, []byte(ev.FunctionARN))
	b = appendBytes(b, []byte(ev.LastFunctionError))
	b = appendBytes(b, ev.LastResponse)
	b = append(b, ev.Payload...)
	statefile.EndSealed(b, start)
	return b
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decodeEvent parses an encoding made by appendEvent (or by its version 1).
// The returned event does not alias b (bbolt values are only valid inside
// their transaction).
func decodeEvent(key uint64, b []byte) (*event, error) {
	d := decoder{b: b}
	switch v := d.byte(); v {
	case eventVersion1:
	case eventVersion:
		content, err := statefile.Unseal(d.b)
		if err != nil {
			return nil, fmt.Errorf("%w %d: %v", ErrCorruptEvent, key, err)
		}
		d.b = content
	default:
		return nil, fmt.Errorf("%w %d: version %d", ErrCorruptEvent, key, v)
	}
	ev := &event{Key: key}
	ev.Enqueued = time.Unix(0, int64(d.uint64()))
	ev.Next = time.Unix(0, int64(d.uint64()))
	ev.Invokes = d.int()
	ev.Throttles = d.int()
	ev.LastStatus = d.int()
	ev.RequestID = string(d.bytes())
	ev.Function = string(d.bytes())
	ev.FunctionARN = string(d.bytes())
	ev.LastFunctionError = string(d.bytes())
	if r := d.bytes(); len(r) > 0 {
		ev.LastResponse = append([]byte(nil), r...)
	}
	if d.bad {
		return nil, fmt.Errorf("%w %d: truncated", ErrCorruptEvent, key)
	}
	ev.Payload = append([]byte(nil), d.b...)
	return ev, nil
}

// decoder reads the encoding; after a short read it sets bad and returns
// zero values.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.bad = true
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.bad = true
		d.b = nil
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) int() int {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > 1<<31 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *decoder) bytes() []byte {
	n := d.int()
	if d.bad || n > len(d.b) {
		d.bad = true
		d.b = nil
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// eventKey is the bucket key of sequence number seq.
func eventKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq) }

// putNew stores ev under the bucket's next sequence number, setting
// ev.Key. Run inside a write transaction.
func putNew(b *bolt.Bucket, ev *event, val []byte) error {
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	ev.Key = seq
	return b.Put(eventKey(seq), val)
}
