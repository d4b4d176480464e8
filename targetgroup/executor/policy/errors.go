package policy

import (
	"errors"
	"fmt"

	"github.com/albedo-lb/albedo/targetgroup/executor/statefile"
)

// Sentinel errors returned (wrapped) by Store; callers branch on them with
// errors.Is.
var (
	// ErrUnknownFunction: the function is not one the store was opened with.
	ErrUnknownFunction = errors.New("policy: unknown function")
	// ErrDuplicateStatement: a statement with this Sid already exists.
	ErrDuplicateStatement = errors.New("policy: statement id already exists")
	// ErrStatementNotFound: no statement has this Sid.
	ErrStatementNotFound = errors.New("policy: statement not found")
	// ErrRevisionMismatch: the caller's RevisionId is not the current one.
	ErrRevisionMismatch = errors.New("policy: revision id does not match")
	// ErrTooLarge: the policy document would exceed MaxDocumentSize
	// (*TooLargeError carries the sizes).
	ErrTooLarge = errors.New("policy: policy too large")
	// ErrCorruptRecord: a record of policy.db is not one albedo wrote (its
	// checksum does not match, or it does not decode).
	ErrCorruptRecord = errors.New("policy: damaged record")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("policy: store closed")
	// ErrLocked: another process (another albedo serving the same
	// state_dir) holds policy.db. It is statefile.ErrLocked, as
	// os.ErrNotExist is fs.ErrNotExist.
	ErrLocked = statefile.ErrLocked
)

// TooLargeError reports a policy document over Lambda's 20 KB limit.
// errors.Is(err, ErrTooLarge) is true for it.
type TooLargeError struct {
	Size, Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("policy: policy size %d exceeds %d", e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }
