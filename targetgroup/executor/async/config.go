package async

import "time"

// Config is a function's asynchronous-invocation configuration
// (Lambda's FunctionEventInvokeConfig).
type Config struct {
	// MaximumRetryAttempts after a function error: 0-2 [2].
	MaximumRetryAttempts int
	// MaximumEventAge: an event older than this is discarded to OnFailure
	// (condition EventAgeExceeded): 60s-6h [6h].
	MaximumEventAge time.Duration
	// OnSuccess and OnFailure are destinations: a function name or
	// function ARN (invoked asynchronously with the destination record), or
	// file://ABSOLUTE_PATH (the record appended as one JSON line). "" = none.
	OnSuccess string
	OnFailure string
	// LastModified is when the configuration was last changed (zero for the
	// config file's own settings until changed through the API).
	LastModified time.Time
}

// DefaultConfig is Lambda's default: 2 retries, 6 hours, no destinations.
func DefaultConfig() Config {
	return Config{MaximumRetryAttempts: 2, MaximumEventAge: 6 * time.Hour}
}
