//go:build unix && !linux

package executor

import (
	"errors"
	"log/slog"
)

// newIsolation: cgroups are Linux's, so other systems run environments in
// process groups.
func newIsolation(string, bool, *slog.Logger) isolation {
	return procGroups{reason: "cgroups are Linux only"}
}

// RemoveLeftovers: without cgroups nothing outlives albedo but what
// Pdeathsig cannot reach.
func RemoveLeftovers(string) (int, error) { return 0, nil }

// CPUQuotaSupport: cpu_model aws needs cgroups.
func CPUQuotaSupport() error { return errors.New("cgroups are Linux only") }
