//go:build unix && !linux

package executor

import "errors"

// Without PR_SET_CHILD_SUBREAPER and /proc, a process-group sandbox is its
// process groups only: a function's process that left them (setsid) is not
// found when its environment stops.

func enableSubreaper() error { return errors.New("no child subreaper on this system") }

func killStrays([]int, string, bool) int { return 0 }
