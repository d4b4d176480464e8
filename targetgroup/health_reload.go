package targetgroup

import (
	"context"

	"github.com/albedo-lb/albedo/config"
)

// Reload stops h's checks and starts those of cfg's groups (a reload of
// the config file). A group whose target, ARN, header mode and health
// check settings did not change keeps its state and consecutive counts,
// as an ALB keeps a target's health across rule changes, and is next
// checked one interval later; the others start afresh (initial, or
// unavailable without health checks). h must not be used afterwards.
func (h *HealthChecker) Reload(ctx context.Context, cfg *config.Config, groups map[string]*Group, inv Invoker) *HealthChecker {
	h.Stop()
	return startHealthChecks(ctx, cfg, groups, inv, h.log, h)
}

// carry gives st the state of the same group in h when nothing about its
// checks changed. h may be nil.
func (h *HealthChecker) carry(st *healthState) {
	if h == nil {
		return
	}
	old := h.groups[st.g.name]
	if old == nil || old.hc != st.hc || old.g.arn != st.g.arn || old.g.function != st.g.function || old.g.multiValue != st.g.multiValue {
		return
	}
	st.state.Store(old.state.Load())
	st.successes, st.failures, st.resumed = old.successes, old.failures, true
}
