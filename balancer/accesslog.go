package balancer

import (
	"bufio"
	"crypto/tls"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/internal/intake"
	"github.com/albedo-lb/albedo/lambdaadapter"
)

// ruleNone marks a request that never reached rule evaluation (TRACE,
// unreadable requests): matched_rule_priority "-".
const ruleNone = -1

// logEntry collects what one request did, for the access log. It lives on
// the handler's stack.
type logEntry struct {
	rule         int       // matched priority, 0 = default rule, ruleNone
	action       string    // "forward" | "redirect" | "fixed-response" | ""
	groupARN     string    // forwarded group's ARN
	targetStatus int       // the function's status; 0 = "-"
	reason       string    // error_reason
	clientGone   bool      // the client hung up before the answer: 460
	start        time.Time // the handler began (zero: a request it never saw)
	dispatched   time.Time
	answered     time.Time

	rm *ruleMetrics   // the matched rule's series; nil before a rule ran or without metrics
	tm *targetMetrics // the forward's target series; nil without a forward or metrics

	sized          bool // received and sent are measured
	received, sent int
}

// measure computes received_bytes and sent_bytes once, for the access log
// and the metrics: received counts the head as sent (request line, headers,
// CRLFs) and the body bytes read (none for a body refused or ignored
// unread: Request.Body would read all of it); sent counts the response
// head as fasthttp serialises it (before it adds Date) and the body, 0
// for a client that hung up (460).
func (e *logEntry) measure(ctx *fasthttp.RequestCtx) {
	if e.sized {
		return
	}
	e.sized = true
	h := &ctx.Request.Header
	e.received = len(h.Method()) + 1 + len(h.RequestURI()) + 1 + len(h.Protocol()) + 2 + len(h.RawHeaders()) + bodyLen(&ctx.Request)
	if !e.clientGone {
		// Header reuses the response header's own buffer: no allocation.
		e.sent = len(ctx.Response.Header.Header()) + len(ctx.Response.Body())
	}
}

// began is when the handler began, for the access log and the metrics
// alike; now for a request it never saw (fasthttp could not read it, or
// the Expect hook refused it before the body), which took no time of its
// own.
func (e *logEntry) began(now time.Time) time.Time {
	if e.start.IsZero() {
		return now
	}
	return e.start
}

func (e *logEntry) receivedBytes(ctx *fasthttp.RequestCtx) int { e.measure(ctx); return e.received }
func (e *logEntry) sentBytes(ctx *fasthttp.RequestCtx) int     { e.measure(ctx); return e.sent }

// StatusClientClosed is the elb_status_code ALB logs for a client that
// closed its connection before the answer; the client never receives it
// (ALB troubleshooting, "HTTP 460":
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-460-issues).
const StatusClientClosed = 460

// accessLog writes one line per request in ALB's access-log format
// ("Syntax", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-syntax)
// into a buffered writer, flushed every second and at Close. Lines are formatted
// into pooled buffers without allocating. Safe for concurrent use.
type accessLog struct {
	elb string // app/<name>/<id>

	mu sync.Mutex
	w  *bufio.Writer

	pool sync.Pool // *[]byte
	stop chan struct{}
	done chan struct{}
}

func newAccessLog(w io.Writer, elb string) *accessLog {
	a := &accessLog{
		elb:  elb,
		w:    bufio.NewWriterSize(w, 64<<10),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	a.pool.New = func() any { b := make([]byte, 0, 1024); return &b }
	go a.flushLoop()
	return a
}

func (a *accessLog) flushLoop() {
	defer close(a.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			a.mu.Lock()
			a.w.Flush()
			a.mu.Unlock()
		case <-a.stop:
			return
		}
	}
}

// Close stops the flusher and flushes what is buffered.
func (a *accessLog) Close() error {
	close(a.stop)
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.w.Flush()
}

// write formats and buffers the line of one finished request.
func (a *accessLog) write(l *listener, ctx *fasthttp.RequestCtx, e *logEntry, now time.Time) {
	bp := a.pool.Get().(*[]byte)
	line := appendLogLine((*bp)[:0], a.elb, l, ctx, e, now)
	a.writeLine(line)
	if cap(line) <= 64<<10 {
		*bp = line
		a.pool.Put(bp)
	}
}

// writeLine buffers one line. The unlock is deferred so that a writer that
// panics (recovered by the listener) cannot leave the log locked forever.
func (a *accessLog) writeLine(line []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.w.Write(line)
}

// appendLogLine appends the 30 fields of an ALB access-log entry and a
// newline: the 29 of the access-log guide's "Syntax"
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-syntax)
// and conn_trace_id, added since, as in Athena's table for ALB logs
// (https://docs.aws.amazon.com/athena/latest/ug/create-alb-access-logs-table.html).
//
// Approximations (documented in doc.go): request_processing_time starts
// when the handler is called (after the head; a forward reads the body
// within it); received_bytes and sent_bytes as logEntry.measure counts
// them; trace_id is X-Amzn-Trace-Id as a forward left it (the value the
// function got) or as the client sent it ("-" when none); conn_trace_id is
// "TID_" and the connection number in hex (format UNCONFIRMED).
func appendLogLine(dst []byte, elb string, l *listener, ctx *fasthttp.RequestCtx, e *logEntry, now time.Time) []byte {
	req, resp := &ctx.Request, &ctx.Response
	var tlsState *tls.ConnectionState
	if tc := intake.TLS(ctx.Conn()); tc != nil {
		cs := tc.ConnectionState()
		tlsState = &cs
	}
	start := e.began(now)
	h := &req.Header

	dst = append(dst, l.scheme...) // 1 type
	dst = append(dst, ' ')
	dst = appendISOTime(dst, now) // 2 time
	dst = append(dst, ' ')
	dst = append(dst, elb...) // 3 elb
	dst = append(dst, ' ')
	peer := peerAddr(ctx.RemoteAddr()) // 4 client:port
	dst = peer.Addr().AppendTo(dst)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, uint64(peer.Port()), 10)
	dst = append(dst, " - "...)                                   // 5 target:port
	dst = appendProcessingTimes(dst, e, start, now)               // 6-8
	dst = appendStatusCodes(dst, resp.StatusCode(), e)            // 9-10
	dst = strconv.AppendInt(dst, int64(e.receivedBytes(ctx)), 10) // 11 received_bytes
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(e.sentBytes(ctx)), 10) // 12 sent_bytes
	dst = append(dst, ' ')
	dst = appendRequestLine(dst, l, h) // 13 request
	dst = append(dst, ' ')
	ua := h.UserAgent() // 14 user_agent, truncated at 8 KB
	if len(ua) > 8<<10 {
		ua = ua[:8<<10]
	}
	dst = appendQuotedOrDash(dst, ua)
	dst = append(dst, ' ')
	dst = appendTLSCipher(dst, tlsState) // 15-16
	dst = append(dst, ' ')
	if e.groupARN != "" { // 17 target_group_arn
		dst = append(dst, e.groupARN...)
	} else {
		dst = append(dst, '-')
	}
	dst = append(dst, ' ')
	dst = appendQuotedOrDash(dst, h.Peek("X-Amzn-Trace-Id")) // 18 trace_id
	dst = append(dst, ' ')
	dst = appendCertFields(dst, l, tlsState) // 19-20
	dst = append(dst, ' ')
	switch { // 21 matched_rule_priority
	case e.rule == ruleNone:
		dst = append(dst, '-')
	default:
		dst = strconv.AppendInt(dst, int64(e.rule), 10)
	}
	dst = append(dst, ' ')
	dst = appendISOTime(dst, start) // 22 request_creation_time
	dst = append(dst, ' ')
	dst = appendQuotedOrDash(dst, e.action) // 23 actions_executed
	dst = append(dst, ' ')
	var loc []byte // 24 redirect_url
	if e.action == "redirect" {
		loc = resp.Header.Peek(fasthttp.HeaderLocation)
	}
	dst = appendQuotedOrDash(dst, loc)
	dst = append(dst, ' ')
	dst = appendQuotedOrDash(dst, e.reason) // 25 error_reason
	// 26-29 target:port_list, target_status_code_list, classification,
	// classification_reason
	dst = append(dst, ` "-" "-" "-" "-" TID_`...)
	id := intake.ConnID(ctx.Conn()) // 30 conn_trace_id
	if id == 0 {                    // not accepted through intake (tests)
		id = ctx.ConnID()
	}
	dst = strconv.AppendUint(dst, id, 16)
	return append(dst, '\n')
}

// appendProcessingTimes appends fields 6-8, request_processing_time,
// target_processing_time and response_processing_time, each with a
// trailing space: -1 each for a request that was never dispatched.
func appendProcessingTimes(dst []byte, e *logEntry, start, now time.Time) []byte {
	if e.dispatched.IsZero() {
		return append(dst, "-1 -1 -1 "...)
	}
	dst = appendSeconds(dst, e.dispatched.Sub(start))
	dst = appendSeconds(dst, e.answered.Sub(e.dispatched))
	return appendSeconds(dst, now.Sub(e.answered))
}

// appendStatusCodes appends fields 9-10 and a space: elb_status_code (460
// for a client gone, whatever was written) and target_status_code (the
// function's status, "-" when it gave none).
func appendStatusCodes(dst []byte, status int, e *logEntry) []byte {
	if e.clientGone {
		status = StatusClientClosed
	}
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	if e.targetStatus > 0 {
		dst = strconv.AppendInt(dst, int64(e.targetStatus), 10)
	} else {
		dst = append(dst, '-')
	}
	return append(dst, ' ')
}

// appendRequestLine appends field 13, "METHOD scheme://host:port/uri
// PROTO", the port always written, as ALB logs it.
func appendRequestLine(dst []byte, l *listener, h *fasthttp.RequestHeader) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, h.Method())
	dst = append(dst, ' ')
	dst = append(dst, l.scheme...)
	dst = append(dst, "://"...)
	dst = appendEscaped(dst, stripPort(h.Host()))
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, int64(l.port), 10)
	dst = appendRequestTarget(dst, h.RequestURI())
	dst = append(dst, ' ')
	dst = appendEscaped(dst, h.Protocol())
	return append(dst, '"')
}

// appendRequestTarget appends the request target after scheme://host:port:
// as received, but for an absolute-form target (GET http://other/x), whose
// scheme and authority go, as they go from the event (the path and query
// the rules matched and the function got).
func appendRequestTarget(dst, uri []byte) []byte {
	if len(uri) > 0 && uri[0] == '/' {
		return appendEscaped(dst, uri)
	}
	path, query := lambdaadapter.SplitRequestURI(uri)
	dst = appendEscaped(dst, path)
	if query != nil {
		dst = append(dst, '?')
		dst = appendEscaped(dst, query)
	}
	return dst
}

// appendTLSCipher appends fields 15-16, ssl_cipher and ssl_protocol, as
// OpenSSL names them (ALB does); "- -" without TLS (tlsState nil).
func appendTLSCipher(dst []byte, tlsState *tls.ConnectionState) []byte {
	if tlsState == nil {
		return append(dst, "- -"...)
	}
	dst = append(dst, cipherName(tlsState.CipherSuite)...)
	dst = append(dst, ' ')
	return append(dst, tlsVersionName(tlsState.Version)...)
}

// appendCertFields appends fields 19-20, domain_name (the client's SNI
// when a certificate of the listener matched it) and chosen_cert_arn (the
// presented certificate's ARN, certs.go, or session-reused).
func appendCertFields(dst []byte, l *listener, tlsState *tls.ConnectionState) []byte {
	domain, certARN := "", ""
	if tlsState != nil && l.certs != nil {
		i, matched := l.certs.match(tlsState.ServerName)
		if matched {
			domain = tlsState.ServerName
		}
		certARN = l.certs.arns[i]
		if tlsState.DidResume {
			certARN = "session-reused"
		}
	}
	dst = appendQuotedOrDash(dst, domain)
	dst = append(dst, ' ')
	return appendQuotedOrDash(dst, certARN)
}

// bodyLen is the length of the body read so far: 0 while it is an unread
// stream (a refused or ignored body), whose bytes were never held;
// Request.Body would read all of it.
func bodyLen(req *fasthttp.Request) int {
	if req.IsBodyStream() {
		return 0
	}
	return len(req.Body())
}

// appendISOTime appends t as 2018-07-02T22:23:00.186641Z.
func appendISOTime(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000Z")
}

// appendSeconds appends d in seconds with millisecond precision and a
// trailing space.
func appendSeconds(dst []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	dst = strconv.AppendFloat(dst, d.Seconds(), 'f', 3, 64)
	return append(dst, ' ')
}

// appendQuotedOrDash appends "v", or "-" when v is empty.
func appendQuotedOrDash[T string | []byte](dst []byte, v T) []byte {
	dst = append(dst, '"')
	if len(v) == 0 {
		dst = append(dst, '-')
	} else {
		dst = appendEscaped(dst, v)
	}
	return append(dst, '"')
}

// appendEscaped appends v with '"', '\\' and bytes outside visible ASCII
// written as \xNN, so a line is always one line of printable text.
func appendEscaped[T string | []byte](dst []byte, v T) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '"' || c == '\\' || c < 0x20 || c >= 0x7f {
			dst = append(dst, '\\', 'x', hex[c>>4], hex[c&0xf])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS10:
		return "TLSv1"
	}
	return "-"
}
