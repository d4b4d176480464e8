package policy

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/albedo-lb/albedo/targetgroup/executor/statefile"
)

// StateFile describes policy.db to package statefile: Open checks it with
// this before bbolt reads it, and `albedo state check|salvage` read it
// through it.
var StateFile = statefile.Spec{
	Name:  File,
	Holds: "the function policy changes made through the API (AddPermission, RemovePermission)",
	Buckets: []statefile.Bucket{
		{Name: string(policyBucket), Record: "policy", Records: "policies", Check: checkRecord},
	},
}

// checkRecord accepts a record Open can use: exactly a policyRecord, with
// the hash and RevisionId every change writes.
func checkRecord(k, v []byte) error {
	if len(k) == 0 {
		return errors.New("empty function name")
	}
	d := json.NewDecoder(bytes.NewReader(v))
	d.DisallowUnknownFields()
	var rec policyRecord
	if err := d.Decode(&rec); err != nil {
		return err
	}
	if rec.ConfigHash == "" || rec.RevisionID == "" {
		return errors.New("record without config hash or revision id")
	}
	return nil
}
