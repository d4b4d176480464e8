package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor/statefile"
)

// policyRecord is the persisted form of an API-changed policy: the JSON
// inside a record (see appendRecord).
type policyRecord struct {
	// ConfigHash is the hash of the config file's statements when the
	// record was written; a different hash at open means the config file
	// changed the function, and the record is dropped.
	ConfigHash string             `json:"config_hash"`
	RevisionID string             `json:"revision_id"`
	Statements []config.Statement `json:"statements"`
}

// recordVersion marks a checksummed record. Records written before it
// are plain JSON and so start with '{': never a version byte.
const recordVersion = 1

// appendRecord appends rec's encoding to b:
//
//	version(1)=1 crc32c(4, big endian, of the JSON) JSON of rec
//
// The checksum makes damage inside a value (which bbolt's page structure
// cannot reveal, and which could turn a removed permission back on) fail
// checkRecord.
func appendRecord(b []byte, rec *policyRecord) ([]byte, error) {
	raw, err := json.Marshal(rec)
	if err != nil {
		return b, err
	}
	b, start := statefile.BeginSealed(b, recordVersion)
	b = append(b, raw...)
	statefile.EndSealed(b, start)
	return b, nil
}

// decodeRecord parses a value written by appendRecord, or a legacy one
// (plain JSON, written before records carried a checksum: legacy is true,
// and only its shape could be checked). It requires exactly a
// policyRecord, with the hash and RevisionId every change writes. Errors
// wrap ErrCorruptRecord. The result does not alias v.
func decodeRecord(v []byte) (rec policyRecord, legacy bool, err error) {
	raw := v
	switch {
	case len(v) == 0:
		return rec, false, fmt.Errorf("%w: empty", ErrCorruptRecord)
	case v[0] == '{':
		legacy = true
	case v[0] == recordVersion:
		if raw, err = statefile.Unseal(v[1:]); err != nil {
			return rec, false, fmt.Errorf("%w: %v: the record changed after albedo wrote it", ErrCorruptRecord, err)
		}
	default:
		return rec, false, fmt.Errorf("%w: unknown version %d", ErrCorruptRecord, v[0])
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&rec); err != nil {
		return policyRecord{}, legacy, fmt.Errorf("%w: %v", ErrCorruptRecord, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return policyRecord{}, legacy, fmt.Errorf("%w: data after the record", ErrCorruptRecord)
	}
	if rec.ConfigHash == "" || rec.RevisionID == "" {
		return policyRecord{}, legacy, fmt.Errorf("%w: no config hash or revision id", ErrCorruptRecord)
	}
	return rec, legacy, nil
}
