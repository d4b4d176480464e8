package targetgroup

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/lambdaadapter"
	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// Target health states, as the ELB API names them.
const (
	HealthInitial     = "initial"
	HealthHealthy     = "healthy"
	HealthUnhealthy   = "unhealthy"
	HealthUnavailable = "unavailable" // health checks disabled (Target.HealthCheckDisabled)
)

// HealthChecker runs the health checks of the groups whose health_check is
// enabled: every interval it invokes the group's function with the ALB's
// health-check event (user agent ELB-HealthChecker/2.0), and the target
// becomes healthy after healthy_threshold consecutive answers whose status
// is in the matcher, unhealthy after unhealthy_threshold failures (an
// error, a timeout, a denied permission, an invalid response or a status
// outside the matcher).
//
// As on AWS, health only informs: a Lambda group has one target, and an ALB
// whose targets are all unhealthy fails open and routes to them anyway, so
// Forward never consults it. Health checks are real invocations (they show
// START/END/REPORT lines) and are not access-logged. State changes are
// logged.
type HealthChecker struct {
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
	groups map[string]*healthState
}

// healthState is one group's health.
type healthState struct {
	g       *Group
	hc      config.HealthCheck
	matcher []codeRange
	state   atomic.Value // string

	// successes and failures count consecutive results; only the group's
	// own checker goroutine touches them.
	successes, failures int
	// resumed: carried over by Reload, so the first check waits one
	// interval like the next one would have.
	resumed bool
}

type codeRange struct{ lo, hi int }

// healthIntervalUnit is the unit of health_check.interval: a second, and a
// millisecond in this package's tests.
var healthIntervalUnit = time.Second

// StartHealthChecks starts a checker goroutine per enabled group of cfg.
// Stop ends them. The invocations run under ctx.
func StartHealthChecks(ctx context.Context, cfg *config.Config, groups map[string]*Group, inv Invoker, log *slog.Logger) *HealthChecker {
	return startHealthChecks(ctx, cfg, groups, inv, log, nil)
}

// startHealthChecks is StartHealthChecks, carrying over prev's state of
// the groups Reload keeps (nil: none).
func startHealthChecks(ctx context.Context, cfg *config.Config, groups map[string]*Group, inv Invoker, log *slog.Logger, prev *HealthChecker) *HealthChecker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	h := &HealthChecker{log: log, cancel: cancel, groups: map[string]*healthState{}}
	for _, tg := range cfg.TargetGroups {
		g := groups[tg.Name]
		if g == nil {
			continue
		}
		st := &healthState{g: g, hc: tg.HealthCheck, matcher: parseMatcher(tg.HealthCheck.Matcher)}
		h.groups[tg.Name] = st
		if !tg.HealthCheck.Enabled || g.function == "" {
			st.state.Store(HealthUnavailable)
			continue
		}
		st.state.Store(HealthInitial)
		prev.carry(st)
		h.wg.Go(func() { h.run(ctx, st, inv) })
	}
	return h
}

// State returns the health state of group's target ("" for an unknown
// group).
func (h *HealthChecker) State(group string) string {
	st := h.groups[group]
	if st == nil {
		return ""
	}
	return st.state.Load().(string)
}

// Stop ends every checker and waits for checks in flight.
func (h *HealthChecker) Stop() {
	h.cancel()
	h.wg.Wait()
}

func (h *HealthChecker) run(ctx context.Context, st *healthState, inv Invoker) {
	interval := time.Duration(st.hc.Interval) * healthIntervalUnit
	t := time.NewTicker(interval)
	defer t.Stop()
	if st.resumed {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	for {
		ok, why := st.check(ctx, inv)
		if ctx.Err() != nil {
			return
		}
		st.record(h.log, ok, why)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check runs one health check and says whether it passed, and why not.
func (st *healthState) check(ctx context.Context, inv Invoker) (bool, string) {
	g := st.g
	if !g.permitted() {
		return false, "elasticloadbalancing principal does not have permission to invoke the function"
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(st.hc.Timeout)*time.Second)
	defer cancel()
	payload := lambdaadapter.AppendHealthCheckEvent(nil, g.arn, st.hc.Path, g.multiValue)
	out, err := inv.Invoke(ctx, executor.Request{Function: g.function, Payload: payload})
	if err != nil {
		return false, err.Error()
	}
	if out.FunctionError != "" {
		return false, functionError(g.function, out).Error()
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := lambdaadapter.DecodeResponse(out.Payload, g.multiValue, resp); err != nil {
		return false, err.Error()
	}
	code := resp.StatusCode()
	for _, r := range st.matcher {
		if code >= r.lo && code <= r.hi {
			return true, ""
		}
	}
	return false, "status " + strconv.Itoa(code) + " does not match " + st.hc.Matcher
}

// record counts one result and moves the state across a threshold.
func (st *healthState) record(log *slog.Logger, ok bool, why string) {
	prev := st.state.Load().(string)
	next := prev
	if ok {
		st.successes, st.failures = st.successes+1, 0
		if st.successes >= st.hc.HealthyThreshold {
			next = HealthHealthy
		}
	} else {
		st.failures, st.successes = st.failures+1, 0
		if st.failures >= st.hc.UnhealthyThreshold {
			next = HealthUnhealthy
		}
	}
	if next == prev {
		return
	}
	st.state.Store(next)
	attrs := []any{"target_group", st.g.name, "function", st.g.function, "from", prev, "to", next}
	if next == HealthUnhealthy {
		log.Warn("target unhealthy (the ALB fails open: traffic still flows)", append(attrs, "reason", why)...)
		return
	}
	log.Info("target healthy", attrs...)
}

// parseMatcher reads a validated matcher: "200", "200,202", "200-299".
func parseMatcher(m string) []codeRange {
	var out []codeRange
	for _, part := range strings.Split(m, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		out = append(out, codeRange{a, b})
	}
	return out
}
