package balancer

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/internal/ascii"
	"github.com/albedo-lb/albedo/lambdaadapter"
)

// rule is one compiled listener rule: all conditions must match (AND).
type rule struct {
	priority int // 0 = the default rule
	conds    []condition
	action   action
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
	tls    *tls.Config // nil for HTTP
}

// compileListener compiles one listener's rules, sorted by priority, with
// the default action appended as the final, condition-less rule.
func compileListener(b *Balancer, idx int, lc *config.Listener, groups map[string]Forwarder, arns map[string]string) (*listener, error) {
	l := &listener{
		b:      b,
		port:   lc.Port,
		scheme: "http",
		log:    b.log.With("listener", lc.Port),
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
	return l, nil
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

// handle is the listener's fasthttp handler.
func (l *listener) handle(ctx *fasthttp.RequestCtx) {
	var e logEntry
	e.rule = ruleNone
	defer l.finish(ctx, &e)
	if status := protocolStatus(&ctx.Request.Header); status != 0 {
		writeError(&ctx.Response, status)
		ctx.SetConnectionClose()
		return
	}
	if ctx.IsTrace() {
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
	e.rule = r.priority
	switch r.action.kind {
	case actForward:
		e.action = "forward"
		l.forward(ctx, &req, r.action.forward, &e)
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
// a logged 500 and writes the access-log line.
func (l *listener) finish(ctx *fasthttp.RequestCtx, e *logEntry) {
	if p := recover(); p != nil {
		l.panicked(ctx, p)
		e.targetStatus = 0
	}
	l.writeLog(ctx, e)
}

// writeLog writes the access-log line of a finished request, if there is
// an access log. It recovers on its own: it runs after the handler's
// recover (in finish) and in fasthttp's other hooks, which fasthttp does
// not protect either.
func (l *listener) writeLog(ctx *fasthttp.RequestCtx, e *logEntry) {
	a := l.b.alog
	if a == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			l.panicked(ctx, p)
		}
	}()
	a.write(l, ctx, e, time.Now())
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

// forward runs the Lambda-target checks, picks a group and forwards.
func (l *listener) forward(ctx *fasthttp.RequestCtx, req *request, fa *forwardAction, e *logEntry) {
	if isWebSocket(&ctx.Request.Header) {
		// The client expects the connection to change protocol; close it.
		e.reason = ReasonWebsocketNotSupported
		l.fail(ctx, fasthttp.StatusBadRequest, e.reason, nil)
		ctx.SetConnectionClose()
		return
	}
	if len(ctx.Request.Body()) > lambdaadapter.MaxRequestBodySize {
		e.reason = ReasonRequestTooLarge
		l.fail(ctx, fasthttp.StatusRequestEntityTooLarge, e.reason, nil)
		return
	}
	if !lambdaadapter.ValidUTF8(&ctx.Request) {
		// Client status UNCONFIRMED; 502 as for the other Lambda user
		// errors (alb.md §9.1).
		e.reason = ReasonBadRequest
		l.fail(ctx, fasthttp.StatusBadGateway, e.reason, nil)
		return
	}
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
		l.fail(ctx, fasthttp.StatusServiceUnavailable, "", nil)
		return
	}
	g := &fa.groups[gi]
	conn := lambdaadapter.Conn{
		ClientIP:     req.peer.Addr(),
		ClientPort:   int(req.peer.Port()),
		ListenerPort: l.port,
		Scheme:       l.scheme,
	}
	e.groupARN = g.arn
	if l.b.alog != nil {
		e.dispatched = time.Now()
		defer func() { e.answered = time.Now() }()
	}
	if err := g.fwd.Forward(l.b.baseCtx, &ctx.Request, conn, &ctx.Response); err != nil {
		status, reason := statusFor(err)
		e.reason = reason
		l.fail(ctx, status, reason, err)
		return
	}
	e.targetStatus = ctx.Response.StatusCode()
	ctx.Response.Header.SetServer(serverName)
	if fa.sticky {
		l.setStickyCookies(&ctx.Response, fa, g.name, now)
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

// fail answers an ALB-generated error. err is the Forward failure, if any.
func (l *listener) fail(ctx *fasthttp.RequestCtx, status int, reason string, err error) {
	writeError(&ctx.Response, status)
	if err == nil {
		return
	}
	level := slog.LevelDebug
	if reason == ReasonUnhandledException {
		level = slog.LevelError
	}
	if l.log.Enabled(l.b.baseCtx, level) {
		l.log.LogAttrs(l.b.baseCtx, level, "forward failed",
			slog.Int("status", status), slog.String("error_reason", reason), slog.Any("err", err))
	}
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
