//go:build unix && !linux

package executor

import "log/slog"

// newIsolation: cgroups are Linux's, so other systems run environments in
// process groups.
func newIsolation(string, *slog.Logger) isolation {
	return procGroups{reason: "cgroups are Linux only"}
}
