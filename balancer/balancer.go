package balancer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/internal/intake"
	"github.com/albedo-lb/albedo/lambdaadapter"
)

// Forwarder sends one request to a target group and writes the target's
// answer into resp. It runs synchronously inside the fasthttp handler; it
// must not retain req, resp or conn's byte slices. It leaves in req's
// X-Amzn-Trace-Id the value it sent to the target (an ALB adds or extends
// that header before it forwards), which the access log's trace_id shows.
// ctx carries the
// invocation deadline (derived from the server base context, never from
// *fasthttp.RequestCtx).
type Forwarder interface {
	Forward(ctx context.Context, req *fasthttp.Request, conn lambdaadapter.Conn, resp *fasthttp.Response) error
}

// Sentinel errors of New, Start and Shutdown.
var (
	// ErrInvalidRule reports a rule that cannot be compiled (priority).
	ErrInvalidRule = errors.New("balancer: invalid rule")
	// ErrNoListeners: the config has no listener.
	ErrNoListeners = errors.New("balancer: no listeners")
	// ErrStarted: Start was called twice.
	ErrStarted = errors.New("balancer: already started")
	// ErrClosed: Start was called after Shutdown.
	ErrClosed = errors.New("balancer: shut down")
)

// Default server limits (Options zero values).
const (
	DefaultReadTimeout     = 60 * time.Second // ALB's default idle timeout
	DefaultWriteTimeout    = 60 * time.Second
	DefaultIdleTimeout     = 60 * time.Second
	DefaultShutdownTimeout = 30 * time.Second
	// MaxHeaderSize is ALB's whole-request-header limit (64 K).
	MaxHeaderSize = 64 << 10
)

// Options configures a Balancer. Zero values take the documented defaults.
type Options struct {
	// Logger receives albedo's own records (component=balancer). [discard]
	Logger *slog.Logger
	// AccessLog receives one ALB-format access-log line per request
	// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-syntax), buffered and flushed every second and at Shutdown.
	// nil disables the access log. The flusher goroutine starts in New and
	// ends in Shutdown.
	AccessLog io.Writer
	// StickinessKey is the HMAC-SHA256 key signing AWSALBTG cookies. nil
	// means 32 random bytes drawn at New: cookies then stay valid only for
	// the life of the process (a restart re-picks groups, as after expiry).
	StickinessKey []byte
	// Rand drives the weighted group choice; for tests. It is guarded by a
	// mutex. nil means math/rand/v2's lock-free runtime generator.
	Rand mrand.Source
	// Now is the clock of cookie expiry and of the access log's times;
	// for tests. [time.Now]
	Now func() time.Time
	// ReadTimeout bounds reading one request, headers and body. [60s]
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response; it starts after the handler
	// returned, so it never cuts a slow function short. [60s]
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long (ALB's
	// idle timeout). [60s]
	IdleTimeout time.Duration
	// ShutdownTimeout bounds Serve's graceful shutdown. [30s]
	ShutdownTimeout time.Duration
	// Listeners are the sockets of the config's listeners, in config order,
	// already bound (by Listen), so that a caller can bind every socket
	// before starting anything else. The Balancer owns them from a
	// successful New on: Shutdown closes them, whether or not Start ran.
	// nil: Start binds them itself.
	Listeners []net.Listener
	// BodyBudget caps the bytes held for request bodies, shared with the
	// process's other servers; a body beyond it gets 503
	// (ReasonBodyBudgetExceeded). nil: no cap.
	BodyBudget *intake.Budget
	// Metrics receives the load balancer's Prometheus metrics; one per
	// process, given to every Balancer built. nil counts nothing.
	Metrics *Metrics
}

// Balancer serves every listener of a config. Build it with New, then Start
// and Shutdown (or Serve). Its methods are safe for concurrent use.
type Balancer struct {
	log       *slog.Logger
	listeners []*listener
	signer    *cookieSigner
	rng       *lockedRand
	alog      atomic.Pointer[accessLog] // nil without an access log
	elb       string                    // app/<name>/<id>, the access log's elb field
	now       func() time.Time
	opts      Options

	// baseCtx is the parent of every invocation; cancelled only when a
	// graceful shutdown runs out of time, to abort what is still in flight.
	baseCtx context.Context
	cancel  context.CancelFunc

	mu       sync.Mutex
	started  bool
	closed   bool           // Shutdown ran: Start refuses
	lns      []net.Listener // bound sockets, TLS-wrapped where HTTPS; nil until bound
	serveWG  sync.WaitGroup
	drainWG  sync.WaitGroup // listeners a reload removed, draining (swap.go)
	errs     chan error
	closeLog sync.Once
}

// New compiles every listener's rules (sorted by priority) and actions.
// groups maps target-group names to their Forwarder; a forward action
// naming a group missing from it is an error (ErrUnknownTargetGroup).
// A listener Port of 0 binds an ephemeral port (tests); see Addrs.
func New(cfg *config.Config, groups map[string]Forwarder, opts Options) (*Balancer, error) {
	if cfg == nil || len(cfg.Listeners) == 0 {
		return nil, ErrNoListeners
	}
	if opts.Listeners != nil && len(opts.Listeners) != len(cfg.Listeners) {
		return nil, fmt.Errorf("balancer: %d sockets for %d listeners", len(opts.Listeners), len(cfg.Listeners))
	}
	b := &Balancer{opts: opts, now: opts.Now, errs: make(chan error, len(cfg.Listeners))}
	b.log = opts.Logger
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	b.log = b.log.With("component", "balancer")
	if b.now == nil {
		b.now = time.Now
	}
	key := opts.StickinessKey
	if key == nil {
		key = make([]byte, 32)
		rand.Read(key)
	}
	b.signer = newCookieSigner(key)
	if opts.Rand != nil {
		b.rng = &lockedRand{src: opts.Rand}
	}
	ls, err := b.compile(cfg, groups)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		l.server = b.newServer(l)
	}
	b.listeners = ls
	lb := cfg.LoadBalancer
	if lb == "" {
		lb = "albedo"
	}
	b.elb = config.LoadBalancerName(lb)
	if opts.AccessLog != nil {
		b.alog.Store(newAccessLog(opts.AccessLog, b.elb))
	}
	b.baseCtx, b.cancel = context.WithCancel(context.Background())
	if opts.Listeners != nil {
		b.adopt(opts.Listeners)
	}
	return b, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// newServer builds the fasthttp server of one listener with explicit
// limits: headers up to 64 KB; bodies streamed to the handler, which reads
// them itself (intake.Body: memory follows the bytes that arrive, the 1 MB
// Lambda limit and the body budget are enforced there), after a 1-byte
// prefetch.
func (b *Balancer) newServer(l *listener) *fasthttp.Server {
	s := &fasthttp.Server{
		Handler:            l.handle,
		ErrorHandler:       l.handleReadError,
		ExpectHandler:      l.expect,
		Name:               serverName,
		ReadBufferSize:     MaxHeaderSize,
		StreamRequestBody:  true,
		MaxRequestBodySize: intake.PrefetchSize,
		ReadTimeout:        orDefault(b.opts.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:       orDefault(b.opts.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:        orDefault(b.opts.IdleTimeout, DefaultIdleTimeout),
		// Multipart bodies stay bytes for the event; parsing them would
		// also read the body behind the handler's back.
		DisablePreParseMultipartForm: true,
		NoDefaultContentType:         true,
		// Read errors are then fasthttp's sentinels (statusForReadError
		// tells 501 from 400 by them) and never quote request bytes.
		SecureErrorLogMessage: true,
		// Without it every open connection holds a ReadBufferSize (64 KB)
		// reader from the moment it is accepted, so a client pins 64 KB
		// per connection it opens and keeps silent; with it the reader is
		// taken when the first request starts (and, with a streamed body,
		// kept until the connection closes: see intake).
		ReduceMemoryUsage: true,
		Logger:            fasthttpLogger{l.log},
	}
	if l.m != nil {
		s.ConnState = l.m.connState
	}
	return s
}

// expect decides "Expect: 100-continue" requests before their body is
// sent: a body announced over the Lambda limit on a forward rule is refused
// at once with 413 (fasthttp then sends the response and closes), so that
// a client such as curl never starts streaming a body the server would cut
// off with a reset.
//
// A refused request never reaches the handler, so expect writes the page
// and the access-log line itself (fasthttp keeps the response and only
// sets the returned status). A panic gives 500, as in the handler.
func (l *listener) expect(ctx *fasthttp.RequestCtx) (status int) {
	if n := l.next.Load(); n != nil {
		return n.expect(ctx)
	}
	defer func() {
		if p := recover(); p != nil {
			l.panicked(ctx, p)
			status = fasthttp.StatusInternalServerError
		}
	}()
	if ctx.Request.Header.ContentLength() <= lambdaadapter.MaxRequestBodySize {
		return fasthttp.StatusContinue
	}
	var req request
	req.parse(ctx)
	r := l.match(&req)
	if r.action.kind != actForward {
		return fasthttp.StatusContinue
	}
	writeError(&ctx.Response, fasthttp.StatusRequestEntityTooLarge)
	e := logEntry{rule: r.priority, action: "forward", reason: ReasonRequestTooLarge, rm: r.m}
	l.writeLog(ctx, &e)
	return ctx.Response.StatusCode() // 413, or 500 if writeLog recovered a panic
}

// handleReadError answers requests fasthttp could not read. A panic gives
// 500, as in the handler.
func (l *listener) handleReadError(ctx *fasthttp.RequestCtx, err error) {
	if n := l.next.Load(); n != nil {
		n.handleReadError(ctx, err)
		return
	}
	defer func() {
		if p := recover(); p != nil {
			l.panicked(ctx, p)
		}
	}()
	status, reason := statusForReadError(err)
	writeError(&ctx.Response, status)
	e := logEntry{rule: ruleNone, reason: reason}
	l.writeLog(ctx, &e)
}

// ListenError is a listener whose socket could not be bound.
type ListenError struct {
	Index   int    // position in config.Listeners
	Address string // the host:port it tried
	Err     error  // from net.Listen (*net.OpError)
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("balancer: %s: %v", e.Setting(), e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// Setting is the config field to change: listeners[i].address when the
// address is not one of this machine's (or not resolvable),
// listeners[i].port otherwise (busy, or privileged).
func (e *ListenError) Setting() string {
	var dns *net.DNSError
	if errors.As(e.Err, &dns) || errors.Is(e.Err, syscall.EADDRNOTAVAIL) {
		return fmt.Sprintf("listeners[%d].address", e.Index)
	}
	return fmt.Sprintf("listeners[%d].port", e.Index)
}

// Listen binds the TCP socket of every listener of cfg, in config order,
// and serves nothing. It tries them all: the error joins one *ListenError
// per listener that failed, and then every socket it did bind is closed
// again. Pass the sockets to New as Options.Listeners.
func Listen(cfg *config.Config) ([]net.Listener, error) {
	addrs := make([]string, len(cfg.Listeners))
	for i := range cfg.Listeners {
		addrs[i] = joinHostPort(cfg.Listeners[i].Address, cfg.Listeners[i].Port)
	}
	return listenAll(addrs)
}

// listenAll binds addrs, in order; see Listen.
func listenAll(addrs []string) ([]net.Listener, error) {
	var (
		lc   net.ListenConfig
		lns  []net.Listener
		errs []error
	)
	for i, addr := range addrs {
		ln, err := lc.Listen(context.Background(), "tcp", addr)
		if err != nil {
			errs = append(errs, &ListenError{Index: i, Address: addr, Err: err})
			continue
		}
		lns = append(lns, ln)
	}
	if len(errs) > 0 {
		for _, ln := range lns {
			ln.Close()
		}
		return nil, errors.Join(errs...)
	}
	return lns, nil
}

// adopt takes bound sockets as the listeners' own: a listener configured
// with port 0 learns its port, and HTTPS listeners get the TLS layer.
func (b *Balancer) adopt(lns []net.Listener) {
	b.lns = make([]net.Listener, len(lns))
	for i, l := range b.listeners {
		b.lns[i] = adoptOne(l, lns[i])
	}
}

// adoptOne makes ln the socket of l: a listener configured with port 0
// learns its port, and connections speak TLS while l serves HTTPS.
func adoptOne(l *listener, ln net.Listener) net.Listener {
	if l.port == 0 {
		if ta, ok := ln.Addr().(*net.TCPAddr); ok {
			l.port = ta.Port
		}
	}
	return &tlsSwitch{Listener: ln, l: l}
}

// Start serves every listener in its own goroutine, binding them first
// unless Options.Listeners handed them over. If one cannot be bound, none
// stays bound and the error (see Listen) is returned. After Shutdown it
// returns ErrClosed.
func (b *Balancer) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return ErrStarted
	}
	if b.closed {
		return ErrClosed
	}
	if b.lns == nil {
		addrs := make([]string, len(b.listeners))
		for i, l := range b.listeners {
			addrs[i] = l.addr
		}
		lns, err := listenAll(addrs)
		if err != nil {
			return err
		}
		b.adopt(lns)
	}
	b.started = true
	for i, l := range b.listeners {
		b.serveLocked(l, b.lns[i])
	}
	return nil
}

// serveLocked serves ln with l in a new goroutine. b.mu must be held.
func (b *Balancer) serveLocked(l *listener, ln net.Listener) {
	b.log.Info("listening", slog.String("address", ln.Addr().String()), slog.String("protocol", l.current().scheme))
	b.serveWG.Add(1)
	go func() {
		defer b.serveWG.Done()
		if err := l.serve(ln); err != nil {
			err = fmt.Errorf("balancer: serve %s: %w", ln.Addr(), err)
			b.log.Error("listener stopped", slog.Any("err", err))
			select {
			case b.errs <- err:
			default: // Serve reads one; the rest are logged
			}
		}
	}()
}

// Addrs returns the bound address of every listener, in config order (nil
// before the sockets are bound: by Start, or handed over to New).
func (b *Balancer) Addrs() []net.Addr {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]net.Addr, len(b.lns))
	for i, ln := range b.lns {
		out[i] = ln.Addr()
	}
	return out
}

// Shutdown stops accepting, closes idle connections and waits for
// in-flight requests to be answered. If ctx ends first, in-flight
// invocations are cancelled and ctx's error returned. It may run before,
// during or after Start, any number of times; afterwards Start refuses.
func (b *Balancer) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	lns, listeners := b.lns, b.listeners
	b.mu.Unlock()
	// Close the sockets before asking fasthttp: its shutdown closes only
	// the listeners its Serve has already registered, so a Serve goroutine
	// that had not got that far would otherwise serve (and keep serveWG
	// waiting) forever. On a closed socket Serve returns at once, whenever
	// it starts.
	for _, ln := range lns {
		ln.Close()
	}
	var wg sync.WaitGroup
	errs := make([]error, len(listeners))
	for i, l := range listeners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// fasthttp closes the sockets again: that error is expected.
			if err := l.server.ShutdownWithContext(ctx); !errors.Is(err, net.ErrClosed) {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	errs = append(errs, b.waitDrained(ctx))
	b.cancel()
	b.serveWG.Wait()
	if a := b.alog.Load(); a != nil {
		b.closeLog.Do(func() { errs = append(errs, a.Close()) })
	}
	return errors.Join(errs...)
}

// Serve starts the balancer, serves until ctx is done or a listener fails,
// then shuts down gracefully within Options.ShutdownTimeout.
func (b *Balancer) Serve(ctx context.Context) error {
	if err := b.Start(); err != nil {
		return err
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-b.errs:
	}
	sctx, cancel := context.WithTimeout(context.Background(), orDefault(b.opts.ShutdownTimeout, DefaultShutdownTimeout))
	defer cancel()
	return errors.Join(serveErr, b.Shutdown(sctx))
}

// fasthttpLogger routes fasthttp's own messages to slog at debug level
// (they are mostly clients going away).
type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Debug(fmt.Sprintf(format, args...))
}
