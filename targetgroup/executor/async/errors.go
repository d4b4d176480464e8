package async

import (
	"errors"

	"github.com/albedo-lb/albedo/targetgroup/executor/statefile"
)

// Sentinel errors callers branch on with errors.Is. Enqueue and PutConfig
// also return executor.ErrFunctionNotFound (wrapped) for an unknown function
// and executor.ErrPayloadTooLarge for an event above MaxPayloadSize.
var (
	// ErrClosed: the Queue was closed; nothing more is accepted.
	ErrClosed = errors.New("async: queue closed")
	// ErrInvalidConfig: a Config value is out of range or a destination is
	// malformed (Lambda's InvalidParameterValueException). The wrapping
	// error names the field.
	ErrInvalidConfig = errors.New("async: invalid event invoke config")
	// ErrNoConfig: DeleteConfig on a function without an event invoke
	// config (Lambda's ResourceNotFoundException).
	ErrNoConfig = errors.New("async: function has no event invoke config")
	// ErrCorruptEvent: a stored event could not be decoded.
	ErrCorruptEvent = errors.New("async: corrupt stored event")
	// ErrLocked: another process (another albedo serving the same
	// state_dir) holds queue.db. It is statefile.ErrLocked, as
	// os.ErrNotExist is fs.ErrNotExist.
	ErrLocked = statefile.ErrLocked
)
