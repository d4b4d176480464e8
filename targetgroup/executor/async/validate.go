package async

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Limits of Config, as enforced by PutFunctionEventInvokeConfig.
const (
	MaxRetryAttempts = 2
	MinEventAge      = 60 * time.Second
	MaxEventAge      = 6 * time.Hour
)

// Validate reports the first out-of-range field of c, wrapping
// ErrInvalidConfig.
func (c Config) Validate() error {
	if c.MaximumRetryAttempts < 0 || c.MaximumRetryAttempts > MaxRetryAttempts {
		return fmt.Errorf("%w: MaximumRetryAttempts %d not in 0-%d", ErrInvalidConfig, c.MaximumRetryAttempts, MaxRetryAttempts)
	}
	if c.MaximumEventAge < MinEventAge || c.MaximumEventAge > MaxEventAge {
		return fmt.Errorf("%w: MaximumEventAgeInSeconds %d not in %d-%d", ErrInvalidConfig,
			int64(c.MaximumEventAge/time.Second), int64(MinEventAge/time.Second), int64(MaxEventAge/time.Second))
	}
	if _, err := parseDestination(c.OnSuccess); err != nil {
		return fmt.Errorf("OnSuccess: %w", err)
	}
	if _, err := parseDestination(c.OnFailure); err != nil {
		return fmt.Errorf("OnFailure: %w", err)
	}
	return nil
}

// destination is a parsed OnSuccess/OnFailure value.
type destination struct {
	File     string // absolute path for file://PATH
	Function string // function name for a name or function ARN
}

func (d destination) none() bool { return d.File == "" && d.Function == "" }

// parseDestination accepts "", file://ABSOLUTE_PATH, a function name, or a
// Lambda function ARN (full, unqualified or qualified with $LATEST). Other
// ARNs (SQS, SNS, EventBridge, S3) are not supported locally.
func parseDestination(s string) (destination, error) {
	switch {
	case s == "":
		return destination{}, nil
	case strings.HasPrefix(s, "file://"):
		p := strings.TrimPrefix(s, "file://")
		if !filepath.IsAbs(p) {
			return destination{}, fmt.Errorf("%w: destination %q: file path must be absolute", ErrInvalidConfig, s)
		}
		return destination{File: filepath.Clean(p)}, nil
	case strings.HasPrefix(s, "arn:"):
		// arn:partition:lambda:region:account:function:name[:qualifier]
		parts := strings.Split(s, ":")
		if len(parts) < 7 || len(parts) > 8 || parts[2] != "lambda" || parts[5] != "function" ||
			!strings.HasPrefix(parts[1], "aws") {
			return destination{}, fmt.Errorf("%w: destination %q: only Lambda function ARNs and file:// are supported", ErrInvalidConfig, s)
		}
		if len(parts) == 8 && parts[7] != "$LATEST" {
			return destination{}, fmt.Errorf("%w: destination %q: only $LATEST exists locally", ErrInvalidConfig, s)
		}
		if !validName(parts[6]) {
			return destination{}, fmt.Errorf("%w: destination %q: bad function name", ErrInvalidConfig, s)
		}
		return destination{Function: parts[6]}, nil
	default:
		if !validName(s) {
			return destination{}, fmt.Errorf("%w: destination %q: not a function name, function ARN or file:// URL", ErrInvalidConfig, s)
		}
		return destination{Function: s}, nil
	}
}

// validName matches Lambda's function name: [a-zA-Z0-9-_]{1,64}.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
