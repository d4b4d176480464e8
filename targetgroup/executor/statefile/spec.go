package statefile

import "strconv"

// Spec describes one state file: its name in the state directory, what it
// holds (for messages), and its top-level buckets with a check of their
// records. The package that owns the file declares it; Open, Check and
// Salvage read the file through it.
type Spec struct {
	// Name is the file name inside the state directory ("queue.db").
	Name string
	// Holds says what the file holds, for the messages users read:
	// "queued async events and their retry state".
	Holds string
	// Buckets are the top-level buckets and their records. Buckets not
	// listed are checked for structure only and not salvaged.
	Buckets []Bucket
}

// Bucket is one top-level bucket of a Spec.
type Bucket struct {
	Name string
	// Record and Records name one record and several, for reports
	// ("event", "events").
	Record, Records string
	// Check returns an error for a record the owner could not use. nil:
	// every record is fine. It must not retain k or v and may panic on
	// garbage (the panic counts as a damaged record).
	Check func(k, v []byte) error
	// SequenceKeys: keys are the bucket's sequence numbers (8 bytes, big
	// endian), so a salvaged bucket's sequence must be at least the
	// largest key kept.
	SequenceKeys bool
}

func (s *Spec) bucket(name []byte) int {
	for i := range s.Buckets {
		if s.Buckets[i].Name == string(name) {
			return i
		}
	}
	return -1
}

// plural renders "1 event", "3 events".
func plural(n int, noun string) string {
	s := strconv.Itoa(n) + " " + noun
	if n != 1 {
		s += "s"
	}
	return s
}
