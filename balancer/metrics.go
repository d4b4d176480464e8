package balancer

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/lambdaadapter"
)

// Metrics are the load balancer's Prometheus metrics (namespace albedo,
// subsystem lb), shaped like Traefik's and Caddy's (…_requests_total,
// …_request_duration_seconds) and covering CloudWatch's ALB metrics.
// Create one per process with NewMetrics and pass it in Options.Metrics to
// every Balancer: a Balancer built again (a reload) counts into the same
// series.
//
// New resolves every series a request can touch (per listener, rule and
// target group, every code class and error reason) into the compiled
// rules, so counting a request costs a few atomic additions and histogram
// observations: no allocation, no lock, no label lookup.
type Metrics struct {
	requests       *prometheus.CounterVec
	responses      *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	targetDuration *prometheus.HistogramVec
	userErrors     *prometheus.CounterVec
	internalErrors *prometheus.CounterVec
	processed      *prometheus.CounterVec
	redirects      *prometheus.CounterVec
	fixed          *prometheus.CounterVec
	ruleEvals      *prometheus.CounterVec
	openConns      *prometheus.GaugeVec
	rejected       *prometheus.CounterVec
}

// latencyBuckets span a fixed response (100 µs) to Lambda's 900 s timeout.
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900}

// NewMetrics registers the load-balancer metrics on reg. It panics if they
// are registered on reg already.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "albedo", Subsystem: "lb", Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "albedo", Subsystem: "lb", Name: name, Help: help, Buckets: latencyBuckets}, labels)
	}
	m := &Metrics{
		requests: counter("requests_total",
			`Requests by listener (port) and matched rule priority ("0" the default rule, "-" requests refused before any rule ran) (CloudWatch's RequestCount).`, "listener", "rule"),
		responses: counter("responses_total",
			`Responses by status class and producer: "function" for a function's own status, "albedo" for every status albedo generated (errors, redirects, fixed responses, 460 for a client gone) (HTTPCode_Target_* vs HTTPCode_ELB_*).`,
			"listener", "rule", "producer", "code_class"),
		duration: histogram("request_duration_seconds",
			"Time from the request's head to its answer, body reading and the function included (not the write of the answer).", "listener", "rule"),
		targetDuration: histogram("target_duration_seconds",
			"Time a forward spent at the target group: encode, invoke, decode (CloudWatch's TargetResponseTime).", "listener", "rule", "target_group"),
		userErrors: counter("lambda_user_errors_total",
			"Failed forwards attributable to the function or the request, by error_reason (CloudWatch's LambdaUserError).", "target_group", "reason"),
		internalErrors: counter("lambda_internal_errors_total",
			"Failed forwards caused by albedo or the Lambda service, by error_reason (CloudWatch's LambdaInternalError).", "target_group", "reason"),
		processed: counter("processed_bytes_total",
			"Bytes received and sent by the listener, heads and bodies (CloudWatch's ProcessedBytes; TLS overhead not included).", "listener"),
		redirects: counter("redirects_total", "Redirect actions answered (CloudWatch's HTTP_Redirect_Count).", "listener"),
		fixed:     counter("fixed_responses_total", "Fixed-response actions answered (CloudWatch's HTTP_Fixed_Response_Count).", "listener"),
		ruleEvals: counter("rule_evaluations_total",
			"Listener rules evaluated, the default rule not counted (CloudWatch's RuleEvaluations).", "listener"),
		openConns: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "albedo", Subsystem: "lb", Name: "open_connections",
			Help: "Client connections open now (CloudWatch's ActiveConnectionCount)."}, []string{"listener"}),
		rejected: counter("rejected_requests_total",
			"Requests refused before any rule ran (malformed or over a limit, TRACE or CONNECT, too many X-Forwarded-For, unreadable or too slow), by status, and bodies refused over body_memory_budget (503).",
			"listener", "code"),
	}
	reg.MustRegister(m.requests, m.responses, m.duration, m.targetDuration, m.userErrors, m.internalErrors,
		m.processed, m.redirects, m.fixed, m.ruleEvals, m.openConns, m.rejected)
	return m
}

// Producers of a response, the first index of ruleMetrics.responses.
const (
	producerAlbedo = iota
	producerFunction
)

// listenerMetrics are one listener's series.
type listenerMetrics struct {
	processed, redirects, fixed, ruleEvals prometheus.Counter
	open                                   prometheus.Gauge
	rejected                               map[int]prometheus.Counter
	none                                   *ruleMetrics // requests refused before any rule
	m                                      *Metrics
	listener                               string
}

// ruleMetrics are one rule's series.
type ruleMetrics struct {
	requests  prometheus.Counter
	responses [2][5]prometheus.Counter // producer × class (1xx…5xx)
	duration  prometheus.Observer
	evals     float64 // rules evaluated to reach this one
}

// targetMetrics are one (rule, target group) pair's series.
type targetMetrics struct {
	duration prometheus.Observer
	errors   *groupErrors
}

// groupErrors are a target group's Lambda error series, by reason.
type groupErrors struct {
	user, internal map[string]prometheus.Counter
	m              *Metrics
	group          string
}

// rejectedCodes are the statuses albedo answers before any rule, and 503
// for a body over the budget.
var rejectedCodes = []int{400, 405, 408, 413, 414, 431, StatusTooManyForwardedFor, 500, 501, 503, 505}

// internalReasons are the error_reason values of CloudWatch's
// LambdaInternalError; every other Lambda* reason is a LambdaUserError
// (the metric of each code: "Error reason codes",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#error-reason-codes).
var internalReasons = []string{"LambdaConnectionError", ReasonConnectionTimeout, "LambdaServiceException", ReasonUnhandledException}

// userReasons are the Lambda user-error reasons albedo produces; others
// that appear are resolved when first met.
var userReasons = []string{ReasonAccessDenied, ReasonResourceNotFound, ReasonThrottling, ReasonUnhandled, ReasonRequestTooLarge,
	ReasonWebsocketNotSupported, ReasonBadRequest, lambdaadapter.ReasonInvalidResponse, lambdaadapter.ReasonResponseTooLarge}

func (m *Metrics) listener(port int) *listenerMetrics {
	if m == nil {
		return nil
	}
	name := strconv.Itoa(port)
	lm := &listenerMetrics{
		m:         m,
		listener:  name,
		processed: m.processed.WithLabelValues(name),
		redirects: m.redirects.WithLabelValues(name),
		fixed:     m.fixed.WithLabelValues(name),
		ruleEvals: m.ruleEvals.WithLabelValues(name),
		open:      m.openConns.WithLabelValues(name),
		rejected:  make(map[int]prometheus.Counter, len(rejectedCodes)),
	}
	for _, code := range rejectedCodes {
		lm.rejected[code] = m.rejected.WithLabelValues(name, strconv.Itoa(code))
	}
	lm.none = lm.rule("-", 0)
	return lm
}

// rule resolves the series of the rule with this priority label.
func (lm *listenerMetrics) rule(priority string, evals int) *ruleMetrics {
	if lm == nil {
		return nil
	}
	m := lm.m
	rm := &ruleMetrics{
		requests: m.requests.WithLabelValues(lm.listener, priority),
		duration: m.duration.WithLabelValues(lm.listener, priority),
		evals:    float64(evals),
	}
	for p, producer := range []string{"albedo", "function"} {
		for c := range rm.responses[p] {
			rm.responses[p][c] = m.responses.WithLabelValues(lm.listener, priority, producer, strconv.Itoa(c+1)+"xx")
		}
	}
	return rm
}

// target resolves the series of a forward to group from a rule; errors
// are shared by every rule forwarding to the group (byGroup).
func (lm *listenerMetrics) target(priority, group string, byGroup map[string]*groupErrors) *targetMetrics {
	if lm == nil {
		return nil
	}
	m := lm.m
	ge := byGroup[group]
	if ge == nil {
		ge = &groupErrors{m: m, group: group, user: map[string]prometheus.Counter{}, internal: map[string]prometheus.Counter{}}
		for _, r := range userReasons {
			ge.user[r] = m.userErrors.WithLabelValues(group, r)
		}
		for _, r := range internalReasons {
			ge.internal[r] = m.internalErrors.WithLabelValues(group, r)
		}
		byGroup[group] = ge
	}
	return &targetMetrics{duration: m.targetDuration.WithLabelValues(lm.listener, priority, group), errors: ge}
}

// count records one answered request: its rule, status class and
// producer, durations, bytes, action and failure.
func (lm *listenerMetrics) count(ctx *fasthttp.RequestCtx, e *logEntry, now time.Time) {
	rm := e.rm
	if rm == nil {
		rm = lm.none
	}
	rm.requests.Inc()
	status := ctx.Response.StatusCode()
	producer := producerAlbedo
	switch {
	case e.clientGone:
		status = StatusClientClosed
	case e.targetStatus > 0 && e.reason == "":
		producer = producerFunction
	}
	rm.responses[producer][min(max(status/100, 1), 5)-1].Inc()
	rm.duration.Observe(now.Sub(e.began(now)).Seconds())
	if rm.evals > 0 {
		lm.ruleEvals.Add(rm.evals)
	}
	lm.processed.Add(float64(e.receivedBytes(ctx) + e.sentBytes(ctx)))
	switch e.action {
	case "redirect":
		lm.redirects.Inc()
	case "fixed-response":
		lm.fixed.Inc()
	}
	if e.rm == nil || e.reason == ReasonBodyBudgetExceeded {
		if c := lm.rejected[status]; c != nil {
			c.Inc()
		} else {
			lm.m.rejected.WithLabelValues(lm.listener, strconv.Itoa(status)).Inc() // a status albedo does not answer with today
		}
	}
	if tm := e.tm; tm != nil {
		if !e.dispatched.IsZero() {
			tm.duration.Observe(e.answered.Sub(e.dispatched).Seconds())
		}
		tm.errors.count(e.reason)
	}
}

// count counts a Lambda error reason (others, and "", are not Lambda
// errors).
func (ge *groupErrors) count(reason string) {
	if !strings.HasPrefix(reason, "Lambda") {
		return
	}
	if c := ge.internal[reason]; c != nil {
		c.Inc()
		return
	}
	if c := ge.user[reason]; c != nil {
		c.Inc()
		return
	}
	// A reason first met now (none today): resolved on this request only.
	ge.m.userErrors.WithLabelValues(ge.group, reason).Inc()
}

// connState keeps open_connections.
func (lm *listenerMetrics) connState(_ net.Conn, state fasthttp.ConnState) {
	switch state {
	case fasthttp.StateNew:
		lm.open.Inc()
	case fasthttp.StateClosed, fasthttp.StateHijacked:
		lm.open.Dec()
	}
}
