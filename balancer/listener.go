package balancer

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/internal/ascii"
	"github.com/albedo-lb/albedo/internal/intake"
	"github.com/albedo-lb/albedo/lambdaadapter"
	"github.com/albedo-lb/albedo/targetgroup"
)

// rule is one compiled listener rule: all conditions must match (AND).
type rule struct {
	priority int // 0 = the default rule
	conds    []condition
	action   action
	m        *ruleMetrics // nil without metrics
}

func (r *rule) match(req *request) bool {
	for i := range r.conds {
		if !r.conds[i].match(req) {
			return false
		}
	}
	return true
}

// listener serves one config.Listener: its rules in priority order, then
// the default action.
type listener struct {
	b      *Balancer
	addr   string // host:port to bind
	port   int    // the listener port clients see (the bound port when 0)
	scheme string // "http" | "https"
	rules  []rule // sorted by priority; the default rule last
	log    *slog.Logger
	server *fasthttp.Server
	tls    *tls.Config      // nil for HTTP
	m      *listenerMetrics // nil without metrics
	certs  *certSet         // the HTTPS certificates, for the access log

	// next is set on the listener that owns the socket and the server
	// once a reload replaced its rules (swap.go); requests then run on
	// next's.
	next atomic.Pointer[listener]
}

// compileListener compiles one listener's rules, sorted by priority, with
// the default action appended as the final, condition-less rule.
func compileListener(b *Balancer, idx int, lc *config.Listener, groups map[string]Forwarder, arns map[string]string, groupErrs map[string]*groupErrors) (*listener, error) {
	l := &listener{
		b:      b,
		port:   lc.Port,
		scheme: "http",
		log:    b.log.With("listener", lc.Port),
		m:      b.opts.Metrics.listener(lc.Port),
	}
	if lc.Protocol == "HTTPS" {
		l.scheme = "https"
	}
	l.addr = joinHostPort(lc.Address, lc.Port)
	sorted := slices.Clone(lc.Rules)
	slices.SortStableFunc(sorted, func(a, b config.Rule) int { return a.Priority - b.Priority })
	for i, rc := range sorted {
		if i > 0 && rc.Priority == sorted[i-1].Priority {
			return nil, fmt.Errorf("listeners[%d]: %w: duplicate rule priority %d", idx, ErrInvalidRule, rc.Priority)
		}
		if rc.Priority < 1 || rc.Priority > 50000 {
			return nil, fmt.Errorf("listeners[%d]: %w: priority %d not in 1-50000", idx, ErrInvalidRule, rc.Priority)
		}
		r := rule{priority: rc.Priority}
		for j, cc := range rc.Conditions {
			c, err := compileCondition(cc)
			if err != nil {
				return nil, fmt.Errorf("listeners[%d] rule %d conditions[%d]: %w", idx, rc.Priority, j, err)
			}
			r.conds = append(r.conds, c)
		}
		a, err := compileAction(rc.Action, actionID(lc.Port, rc.Priority), groups, arns)
		if err != nil {
			return nil, fmt.Errorf("listeners[%d] rule %d: %w", idx, rc.Priority, err)
		}
		r.action = a
		l.rules = append(l.rules, r)
	}
	a, err := compileAction(lc.DefaultAction, actionID(lc.Port, 0), groups, arns)
	if err != nil {
		return nil, fmt.Errorf("listeners[%d] default_action: %w", idx, err)
	}
	l.rules = append(l.rules, rule{priority: 0, action: a})
	l.resolveMetrics(groupErrs)
	return l, nil
}

// resolveMetrics resolves the series of every rule and forward target.
func (l *listener) resolveMetrics(groupErrs map[string]*groupErrors) {
	if l.m == nil {
		return
	}
	for i := range l.rules {
		r := &l.rules[i]
		prio := strconv.Itoa(r.priority)
		// The default rule is reached after every other rule was tried,
		// and is not counted itself (ALB's RuleEvaluations).
		r.m = l.m.rule(prio, min(i+1, len(l.rules)-1))
		if fa := r.action.forward; fa != nil {
			for j := range fa.groups {
				fa.groups[j].m = l.m.target(prio, fa.groups[j].name, groupErrs)
			}
		}
	}
}

func actionID(port, priority int) string {
	return strconv.Itoa(port) + "/" + strconv.Itoa(priority)
}

func joinHostPort(host string, port int) string {
	if bytes.IndexByte([]byte(host), ':') >= 0 && host[0] != '[' {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// match returns the first rule, in priority order, whose conditions all
// hold; the default rule always does.
func (l *listener) match(req *request) *rule {
	for i := range l.rules {
		if l.rules[i].match(req) {
			return &l.rules[i]
		}
	}
	return &l.rules[len(l.rules)-1] // unreachable: the default rule matches
}

// serve serves ln until the server shuts down, every connection through
// intake's wrapper (bare-LF check, the client's TCP state).
func (l *listener) serve(ln net.Listener) error {
	return l.server.Serve(intake.Listen(ln))
}

// handle is the listener's fasthttp handler.
func (l *listener) handle(ctx *fasthttp.RequestCtx) {
	if n := l.next.Load(); n != nil {
		n.handle(ctx)
		return
	}
	var e logEntry
	var body intake.Body
	e.rule = ruleNone
	if l.b.alog.Load() != nil || l.m != nil {
		// The one start of the access log's times and the metrics'
		// durations, on the Options.Now clock.
		e.start = l.b.now()
	}
	defer l.finish(ctx, &e, &body)
	if status := protocolStatus(&ctx.Request.Header); status != 0 {
		writeError(&ctx.Response, status)
		ctx.SetConnectionClose()
		return
	}
	if ctx.IsTrace() || ctx.IsConnect() {
		writeError(&ctx.Response, fasthttp.StatusMethodNotAllowed)
		return
	}
	if tooManyForwardedFor(&ctx.Request.Header) {
		writeError(&ctx.Response, StatusTooManyForwardedFor)
		return
	}
	var req request
	req.parse(ctx)
	r := l.match(&req)
	e.rule, e.rm = r.priority, r.m
	switch r.action.kind {
	case actForward:
		e.action = "forward"
		l.forward(ctx, &req, r.action.forward, &e, &body)
	case actRedirect:
		e.action = "redirect"
		l.redirect(ctx, &req, r.action.redirect)
	case actFixed:
		e.action = "fixed-response"
		f := r.action.fixed
		resp := &ctx.Response
		resp.SetStatusCode(f.status)
		resp.Header.SetContentType(f.contentType)
		resp.Header.SetServer(serverName)
		resp.SetBodyRaw(f.body)
	}
}

// finish runs deferred at the end of every request: it turns a panic into
// a logged 500, writes the access-log line, then gives the body's memory
// back and tells the connection the request is over.
func (l *listener) finish(ctx *fasthttp.RequestCtx, e *logEntry, body *intake.Body) {
	if p := recover(); p != nil {
		l.panicked(ctx, p)
		e.targetStatus = 0
	}
	l.writeLog(ctx, e)
	body.Release(&ctx.Request)
	intake.Done(ctx)
}

// writeLog writes the access-log line of a finished request, if there is
// an access log. It recovers on its own: it runs after the handler's
// recover (in finish) and in fasthttp's other hooks, which fasthttp does
// not protect either.
//
// It also counts the request in the metrics, from the same entry.
func (l *listener) writeLog(ctx *fasthttp.RequestCtx, e *logEntry) {
	a := l.b.alog.Load()
	if a == nil && l.m == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			l.panicked(ctx, p)
		}
	}()
	now := l.b.now()
	if l.m != nil {
		l.m.count(ctx, e, now)
	}
	if a != nil {
		a.write(l, ctx, e, now)
	}
}

// panicked logs a recovered panic and replaces the response with a 500.
func (l *listener) panicked(ctx *fasthttp.RequestCtx, p any) {
	l.log.LogAttrs(l.b.baseCtx, slog.LevelError, "panic serving request",
		slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
	writeError(&ctx.Response, fasthttp.StatusInternalServerError)
}

// redirect answers with the action's status, Location and an ALB-style
// page.
func (l *listener) redirect(ctx *fasthttp.RequestCtx, req *request, ra *redirectAction) {
	v := redirectVars{
		scheme: l.scheme,
		host:   req.host,
		port:   l.port,
		path:   bytes.TrimPrefix(req.path, []byte("/")), // #{path} has no leading "/"
		query:  req.query,
	}
	var buf [512]byte
	loc := ra.appendLocation(buf[:0], &v)
	writeError(&ctx.Response, ra.status)
	ctx.Response.Header.SetBytesV(fasthttp.HeaderLocation, loc)
}

// Failures the balancer detects itself, for the log line of a failed
// forward (their status and error_reason are set where they are found).
var (
	errWebSocket  = errors.New("balancer: WebSocket upgrade requested; Lambda targets do not support WebSockets")
	errNotUTF8    = errors.New("balancer: request target, a header or the text body is not valid UTF-8")
	errAllWeight0 = errors.New("balancer: every target group of the forward action has weight 0")
)

// forward picks a group, runs the Lambda-target checks, reads the body and
// forwards.
func (l *listener) forward(ctx *fasthttp.RequestCtx, req *request, fa *forwardAction, e *logEntry, body *intake.Body) {
	now := l.b.now()
	gi := -1
	if fa.sticky {
		var scratch [maxCookieValue]byte
		if name, ok := l.b.signer.verify(&scratch, ctx.Request.Header.Cookie(CookieName), fa.id, now); ok {
			gi = fa.lookup(name)
		}
	}
	if gi < 0 {
		gi = fa.pick(l.b.rng)
	}
	if gi < 0 {
		// Every weight is 0 (UNCONFIRMED): nothing can be chosen, as if
		// the group had no target.
		l.fail(ctx, fasthttp.StatusServiceUnavailable, e, nil, errAllWeight0)
		return
	}
	g := &fa.groups[gi]
	e.groupARN, e.tm = g.arn, g.m
	if isWebSocket(&ctx.Request.Header) {
		// The client expects the connection to change protocol; close it.
		e.reason = ReasonWebsocketNotSupported
		l.fail(ctx, fasthttp.StatusBadRequest, e, g, errWebSocket)
		ctx.SetConnectionClose()
		return
	}
	if err := body.Read(&ctx.Request, lambdaadapter.MaxRequestBodySize, l.b.opts.BodyBudget); err != nil {
		l.refuseBody(ctx, e, g, err)
		return
	}
	if !lambdaadapter.ValidUTF8(&ctx.Request) {
		// The client's status is UNCONFIRMED (AWS documents only the
		// error_reason, https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#error-reason-codes):
		// 502, as for the other Lambda user errors.
		e.reason = ReasonBadRequest
		l.fail(ctx, fasthttp.StatusBadGateway, e, g, errNotUTF8)
		return
	}
	conn := lambdaadapter.Conn{
		ClientIP:     req.peer.Addr(),
		ClientPort:   int(req.peer.Port()),
		ListenerPort: l.port,
		Scheme:       l.scheme,
	}
	if !e.start.IsZero() { // timed: for the access log or the metrics
		e.dispatched = l.b.now()
		defer func() { e.answered = l.b.now() }()
	}
	err := g.fwd.Forward(l.b.baseCtx, &ctx.Request, conn, &ctx.Response)
	// The function ran to its end whatever the client did (as on AWS);
	// a client that left meanwhile is logged 460 (ALB troubleshooting,
	// "HTTP 460": https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-460-issues).
	if intake.PeerGone(ctx.Conn()) {
		e.clientGone = true
		ctx.SetConnectionClose()
	}
	if err != nil {
		status, reason := statusFor(err)
		e.reason = reason
		l.fail(ctx, status, e, g, err)
		return
	}
	e.targetStatus = ctx.Response.StatusCode()
	ctx.Response.Header.SetServer(serverName)
	if fa.sticky {
		l.setStickyCookies(&ctx.Response, fa, g.name, now)
	}
}

// refuseBody answers a body Body.Read refused: 413 over the Lambda limit
// and 503 over the body budget, both answered while the client may still
// be sending (intake.Linger), or the status of the connection's read
// error (408 too slow, 400 gone; the connection is closed).
func (l *listener) refuseBody(ctx *fasthttp.RequestCtx, e *logEntry, g *weightedTarget, err error) {
	linger := true
	status := fasthttp.StatusRequestEntityTooLarge
	switch {
	case errors.Is(err, intake.ErrTooLarge):
		e.reason = ReasonRequestTooLarge
		err = fmt.Errorf("request body over %d bytes: %w", lambdaadapter.MaxRequestBodySize, err)
	case errors.Is(err, intake.ErrBudget):
		status, e.reason = fasthttp.StatusServiceUnavailable, ReasonBodyBudgetExceeded
	default:
		linger = false
		status, e.reason = statusForReadError(err)
	}
	l.fail(ctx, status, e, g, err)
	if linger {
		intake.Linger(ctx)
	} else {
		ctx.SetConnectionClose()
	}
}

// setStickyCookies (re)issues AWSALBTG and AWSALBTGCORS on every forwarded
// response, valid for the action's duration from now.
func (l *listener) setStickyCookies(resp *fasthttp.Response, fa *forwardAction, group string, now time.Time) {
	var buf [160]byte
	expiry := now.Add(fa.duration)
	value := l.b.signer.appendValue(buf[:0], fa.id, group, expiry)
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(CookieName)
	c.SetValueBytes(value)
	c.SetExpire(expiry)
	c.SetPath("/")
	resp.Header.SetCookie(c)
	c.SetKey(CookieNameCORS)
	c.SetSameSite(fasthttp.CookieSameSiteNoneMode) // also sets Secure
	resp.Header.SetCookie(c)
}

// fail answers an ALB-generated error for a forward and logs why, one
// line at Warn (Error for albedo's own failures): the request failed for
// a reason the developer must see without turning on debug logs. g is the
// group picked, nil when none could be.
func (l *listener) fail(ctx *fasthttp.RequestCtx, status int, e *logEntry, g *weightedTarget, err error) {
	writeError(&ctx.Response, status)
	level := slog.LevelWarn
	if e.reason == ReasonUnhandledException {
		level = slog.LevelError
	}
	if !l.log.Enabled(l.b.baseCtx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.Int("rule", e.rule))
	if g != nil {
		attrs = append(attrs, slog.String("target_group", g.name), slog.String("function", g.function))
	}
	attrs = append(attrs, slog.Int("status", status), slog.String("error_reason", e.reason))
	var fe *targetgroup.FunctionError
	if errors.As(err, &fe) {
		attrs = append(attrs, slog.String("error_type", fe.Type), slog.String("error_message", fe.Message))
	} else if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	l.log.LogAttrs(l.b.baseCtx, level, "forward failed", attrs...)
}

// isWebSocket reports an "Upgrade: websocket" request.
func isWebSocket(h *fasthttp.RequestHeader) bool {
	u := h.Peek(fasthttp.HeaderUpgrade)
	if len(u) == 0 {
		return false
	}
	for i := 0; i+len("websocket") <= len(u); i++ {
		if ascii.EqualFold(u[i:i+len("websocket")], "websocket") {
			return true
		}
	}
	return false
}
