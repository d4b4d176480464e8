package policy

import (
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

// checkRecord accepts a record Open can use: one decodeRecord accepts
// (its checksum matches, or it is a well-formed legacy record).
func checkRecord(k, v []byte) error {
	if len(k) == 0 {
		return errors.New("empty function name")
	}
	_, _, err := decodeRecord(v)
	return err
}
