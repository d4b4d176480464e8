package targetgroup

import (
	"context"
	"errors"
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
	HealthUnused      = "unused"      // no listener rule forwards to the group (Target.NotInUse)
	HealthUnavailable = "unavailable" // health checks disabled (Target.HealthCheckDisabled)
)

// HealthStates lists every state, in the order the metrics report them.
var HealthStates = []string{HealthInitial, HealthHealthy, HealthUnhealthy, HealthUnused, HealthUnavailable}

// Reason codes of TargetHealth (ELB's TargetHealthReasonEnum), with the
// descriptions albedo gives them (AWS's exact wording UNCONFIRMED, except
// the response-code one, widely quoted).
const (
	ReasonInitialHealthChecking = "Elb.InitialHealthChecking"
	ReasonResponseCodeMismatch  = "Target.ResponseCodeMismatch"
	ReasonTimeout               = "Target.Timeout"
	ReasonFailedHealthChecks    = "Target.FailedHealthChecks"
	ReasonNotInUse              = "Target.NotInUse"
	ReasonHealthCheckDisabled   = "Target.HealthCheckDisabled"
)

// TargetHealth is a target's state, as DescribeTargetHealth reports it:
// Reason and Description are empty when healthy.
type TargetHealth struct {
	State       string `json:"State"`
	Reason      string `json:"Reason,omitempty"`
	Description string `json:"Description,omitempty"`
}

// GroupHealth is one target group in the /targetgroups view, modelled on
// ELB's DescribeTargetHealth output: its targets (a Lambda group has at
// most one, the function's ARN) and their health.
type GroupHealth struct {
	TargetGroupName          string                    `json:"TargetGroupName"`
	TargetGroupArn           string                    `json:"TargetGroupArn"`
	HealthCheckEnabled       bool                      `json:"HealthCheckEnabled"`
	TargetHealthDescriptions []TargetHealthDescription `json:"TargetHealthDescriptions"`
}

// TargetHealthDescription is one target and its health.
type TargetHealthDescription struct {
	Target       TargetDescription `json:"Target"`
	TargetHealth TargetHealth      `json:"TargetHealth"`
}

// TargetDescription names a target: for Lambda, the function's ARN.
type TargetDescription struct {
	ID string `json:"Id"`
}

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
// START/END/REPORT lines and count in the function metrics) and never pass
// through a listener, so they are never access-logged. A group no listener
// rule forwards to is unused (Target.NotInUse) and not checked, as ELB
// checks only targets of groups a load balancer uses; a group without
// health checks is unavailable (Target.HealthCheckDisabled), as ELB
// reports Lambda targets. State changes are logged.
type HealthChecker struct {
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
	groups map[string]*healthState
	order  []*healthState // config order, for Describe
	m      *Metrics
}

// healthState is one group's health.
type healthState struct {
	g       *Group
	target  string // the function's ARN; "" without a target
	hc      config.HealthCheck
	matcher []codeRange
	state   atomic.Pointer[TargetHealth]

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
	used := usedGroups(cfg)
	for _, tg := range cfg.TargetGroups {
		g := groups[tg.Name]
		if g == nil {
			continue
		}
		st := &healthState{g: g, target: targetARN(cfg, &tg), hc: tg.HealthCheck, matcher: parseMatcher(tg.HealthCheck.Matcher)}
		h.groups[tg.Name] = st
		h.order = append(h.order, st)
		if h.m == nil {
			h.m = g.m.parent()
		}
		switch {
		case !used[tg.Name]:
			st.state.Store(&TargetHealth{State: HealthUnused, Reason: ReasonNotInUse,
				Description: "Target group is not configured to receive traffic from the load balancer"})
		case !tg.HealthCheck.Enabled || g.function == "":
			st.state.Store(&TargetHealth{State: HealthUnavailable, Reason: ReasonHealthCheckDisabled, Description: "Health checks are disabled"})
		default:
			st.state.Store(&TargetHealth{State: HealthInitial, Reason: ReasonInitialHealthChecking, Description: "Initial health checking in progress"})
			prev.carry(st) // a group a reload kept keeps its health
			h.wg.Go(func() { h.run(ctx, st, inv) })
		}
	}
	h.m.watch(h)
	return h
}

// usedGroups are the groups some listener's rule or default action
// forwards to (with any weight, as on ELB).
func usedGroups(cfg *config.Config) map[string]bool {
	used := map[string]bool{}
	mark := func(a *config.Action) {
		if a == nil || a.Forward == nil {
			return
		}
		if a.Forward.TargetGroup != "" {
			used[a.Forward.TargetGroup] = true
		}
		for _, wg := range a.Forward.TargetGroups {
			used[wg.Name] = true
		}
	}
	for _, l := range cfg.Listeners {
		mark(l.DefaultAction)
		for _, r := range l.Rules {
			mark(r.Action)
		}
	}
	return used
}

// targetARN is the ARN the group's target is registered by: the
// function's, or the target as written when it is an ARN.
func targetARN(cfg *config.Config, tg *config.TargetGroup) string {
	if f := cfg.FunctionByName(tg.Function); f != nil && f.ARN != "" {
		return f.ARN
	}
	if len(tg.Targets) > 0 && strings.HasPrefix(tg.Targets[0], "arn:") {
		return tg.Targets[0]
	}
	return ""
}

// State returns the health state of group's target ("" for an unknown
// group).
func (h *HealthChecker) State(group string) string {
	st := h.groups[group]
	if st == nil {
		return ""
	}
	return st.state.Load().State
}

// Describe returns every group's target health, in config order.
func (h *HealthChecker) Describe() []GroupHealth {
	out := make([]GroupHealth, 0, len(h.order))
	for _, st := range h.order {
		gh := GroupHealth{
			TargetGroupName:          st.g.name,
			TargetGroupArn:           st.g.arn,
			HealthCheckEnabled:       st.hc.Enabled,
			TargetHealthDescriptions: []TargetHealthDescription{},
		}
		if st.g.function != "" {
			gh.TargetHealthDescriptions = append(gh.TargetHealthDescriptions, TargetHealthDescription{
				Target:       TargetDescription{ID: st.target},
				TargetHealth: *st.state.Load(),
			})
		}
		out = append(out, gh)
	}
	return out
}

// Stop ends every checker and waits for checks in flight.
func (h *HealthChecker) Stop() {
	h.cancel()
	h.wg.Wait()
	h.m.unwatch(h)
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
		failure := st.check(ctx, inv)
		if ctx.Err() != nil {
			return
		}
		st.g.m.healthCheck(failure == nil)
		st.record(h.log, failure)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// maxHealthDescription bounds a failure's description (it quotes the
// function's error message).
const maxHealthDescription = 512

// check runs one health check; nil when it passed, else the reason code
// and description of the failure.
func (st *healthState) check(ctx context.Context, inv Invoker) *TargetHealth {
	g := st.g
	failed := func(reason, desc string) *TargetHealth {
		return &TargetHealth{State: HealthUnhealthy, Reason: reason, Description: truncate(desc, maxHealthDescription)}
	}
	if !g.permitted() {
		return failed(ReasonFailedHealthChecks, "Health checks failed: elasticloadbalancing principal does not have permission to invoke the function")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(st.hc.Timeout)*time.Second)
	defer cancel()
	payload := lambdaadapter.AppendHealthCheckEvent(nil, g.arn, st.hc.Path, g.multiValue)
	out, err := inv.Invoke(ctx, executor.Request{Function: g.function, Payload: payload})
	switch {
	case errors.Is(err, context.DeadlineExceeded), out.ErrorType == executor.ErrorTypeTimeout:
		return failed(ReasonTimeout, "Request timed out")
	case err != nil:
		return failed(ReasonFailedHealthChecks, "Health checks failed: "+err.Error())
	case out.FunctionError != "":
		return failed(ReasonFailedHealthChecks, "Health checks failed: "+functionError(g.function, out).Error())
	}
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := lambdaadapter.DecodeResponse(out.Payload, g.multiValue, resp); err != nil {
		return failed(ReasonFailedHealthChecks, "Health checks failed: "+err.Error())
	}
	code := resp.StatusCode()
	for _, r := range st.matcher {
		if code >= r.lo && code <= r.hi {
			return nil
		}
	}
	return failed(ReasonResponseCodeMismatch, "Health checks failed with these codes: ["+strconv.Itoa(code)+"]")
}

// record counts one result and moves the state across a threshold; while
// unhealthy, the description follows the latest failure.
func (st *healthState) record(log *slog.Logger, failure *TargetHealth) {
	prev := st.state.Load()
	next := prev
	if failure == nil {
		st.successes, st.failures = st.successes+1, 0
		if st.successes >= st.hc.HealthyThreshold {
			next = &TargetHealth{State: HealthHealthy}
		}
	} else {
		st.failures, st.successes = st.failures+1, 0
		if st.failures >= st.hc.UnhealthyThreshold {
			next = failure
		}
	}
	if next.State == prev.State {
		if next.State == HealthUnhealthy && *next != *prev {
			st.state.Store(next)
		}
		return
	}
	st.state.Store(next)
	attrs := []any{"target_group", st.g.name, "function", st.g.function, "from", prev.State, "to", next.State}
	if next.State == HealthUnhealthy {
		log.Warn("target unhealthy (the ALB fails open: traffic still flows)", append(attrs, "reason", next.Reason, "description", next.Description)...)
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
