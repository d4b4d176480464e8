package async

import (
	"encoding/binary"
	"encoding/json"
	"errors"

	"github.com/albedo-lb/albedo/targetgroup/executor/statefile"
)

// File is the queue's bbolt database in Options.Dir.
const File = "queue.db"

// StateFile describes queue.db to package statefile: Open checks it with
// this before bbolt reads it, and `albedo state check|salvage` read it
// through it.
var StateFile = statefile.Spec{
	Name:  File,
	Holds: "the queued asynchronous (Event) invocations with their retry state, and the event-invoke-configs changed through the API",
	Buckets: []statefile.Bucket{
		{Name: string(bucketEvents), Record: "event", Records: "events", SequenceKeys: true, Check: checkEvent},
		{Name: string(bucketConfigs), Record: "event-invoke-config", Records: "event-invoke-configs", Check: checkOverride},
	},
}

// checkEvent accepts what recover can schedule: a sequence-number key and
// an event that decodes (its checksum included).
func checkEvent(k, v []byte) error {
	if len(k) != 8 {
		return errors.New("key is not a sequence number")
	}
	_, err := decodeEvent(binary.BigEndian.Uint64(k), v)
	return err
}

// checkOverride accepts what loadOverrides can read.
func checkOverride(k, v []byte) error {
	if len(k) == 0 {
		return errors.New("empty function name")
	}
	var o override
	return json.Unmarshal(v, &o)
}
