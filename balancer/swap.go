package balancer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/albedo-lb/albedo/config"
)

// A reload replaces a running balancer's listeners without closing a
// socket that stays: Stage compiles the new configuration and binds the
// addresses it adds, and nothing serving changes until Commit, which
//
//   - points every socket the new configuration keeps (same address and
//     port, as written) at its new listener: the next request on it, on a
//     new or a kept-alive connection, runs the new rules and target groups,
//     while requests already running finish on the old ones (each request
//     loads its listener once, an atomic pointer);
//   - starts serving the sockets the new configuration adds;
//   - closes the sockets it removes, whose connections then drain: each
//     in-flight request is answered, within Options.ShutdownTimeout.
//
// A kept socket also follows a change of protocol or certificates: each
// new connection speaks TLS or not, with the certificates of the listener
// serving the socket when it is accepted (tlsSwitch); connections already
// open keep theirs.

// Staged is a configuration compiled and bound by Stage, not yet serving.
// Commit switches to it, Discard closes what it bound; one of the two must
// be called, once.
type Staged struct {
	b       *Balancer
	lists   []*listener          // the new listeners, in config order
	roots   []*listener          // the socket owner of each: a running listener, or lists[i] for a new address
	socks   map[int]net.Listener // sockets bound for new addresses, by config index
	removed []*listener          // running listeners the new config drops
	done    bool
}

// ErrNotStarted: Stage on a balancer that is not serving.
var ErrNotStarted = errors.New("balancer: not started")

// Stage compiles cfg's listeners for a running balancer and binds the
// addresses cfg adds; it changes nothing that serves. A listener keeps
// its socket when cfg has one with the same address and port (port 0
// never matches: it is a new ephemeral port). Errors are New's, and a
// *ListenError (Index: the position in cfg.Listeners) for each address
// that cannot be bound; nothing stays bound then. Stages must not
// overlap: Commit or Discard one before the next. cfg may have no
// listeners: Commit then closes them all.
func (b *Balancer) Stage(cfg *config.Config, groups map[string]Forwarder) (*Staged, error) {
	b.mu.Lock()
	closed, started := b.closed, b.started
	running := slices.Clone(b.listeners)
	b.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if !started {
		return nil, ErrNotStarted
	}
	lists, err := b.compile(cfg, groups)
	if err != nil {
		return nil, err
	}
	st := &Staged{b: b, lists: lists, roots: make([]*listener, len(lists)), socks: map[int]net.Listener{}}
	kept := map[*listener]bool{}
	var addrs []string
	var index []int // config index of each of addrs
	for i, l := range lists {
		for _, r := range running {
			if r.addr == l.addr && !strings.HasSuffix(r.addr, ":0") && !kept[r] {
				st.roots[i], kept[r] = r, true
				l.port = r.port
				break
			}
		}
		if st.roots[i] == nil {
			st.roots[i] = l
			addrs = append(addrs, l.addr)
			index = append(index, i)
		}
	}
	if len(addrs) > 0 {
		lns, err := listenAll(addrs)
		if err != nil {
			var errs []error
			for _, e := range unwrapJoined(err) {
				var le *ListenError
				if errors.As(e, &le) {
					le.Index = index[le.Index]
				}
				errs = append(errs, e)
			}
			return nil, errors.Join(errs...)
		}
		for j, ln := range lns {
			st.socks[index[j]] = ln
		}
	}
	for _, r := range running {
		if !kept[r] {
			st.removed = append(st.removed, r)
		}
	}
	return st, nil
}

// Commit switches the balancer to the staged listeners (see above). It
// returns ErrClosed, after closing the staged sockets, when the balancer
// was shut down since Stage.
func (st *Staged) Commit() error {
	if st.done {
		return errors.New("balancer: staged configuration already committed or discarded")
	}
	st.done = true
	b := st.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		st.closeSockets()
		return ErrClosed
	}
	old := map[*listener]net.Listener{}
	for i, r := range b.listeners {
		old[r] = b.lns[i]
	}
	lns := make([]net.Listener, len(st.lists))
	for i, l := range st.lists {
		r := st.roots[i]
		if r != l {
			r.next.Store(l)
			lns[i] = old[r]
			continue
		}
		l.server = b.newServer(l)
		lns[i] = adoptOne(l, st.socks[i])
	}
	b.listeners, b.lns = st.roots, lns
	for i, l := range st.lists {
		if st.roots[i] == l {
			b.serveLocked(l, lns[i])
		}
	}
	for _, r := range st.removed {
		ln := old[r]
		// Closing the socket first stops accepting even if fasthttp's
		// Serve has not registered it yet (see Shutdown).
		ln.Close()
		b.drainWG.Add(1)
		go func() {
			defer b.drainWG.Done()
			ctx, cancel := context.WithTimeout(b.baseCtx, orDefault(b.opts.ShutdownTimeout, DefaultShutdownTimeout))
			defer cancel()
			if err := r.server.ShutdownWithContext(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
				b.log.Warn("removed listener did not drain in time", "address", ln.Addr().String(), "err", err)
				return
			}
			b.log.Info("removed listener drained", "address", ln.Addr().String())
		}()
	}
	return nil
}

// Discard closes the sockets Stage bound; the balancer keeps serving as
// before.
func (st *Staged) Discard() {
	if st.done {
		return
	}
	st.done = true
	st.closeSockets()
}

func (st *Staged) closeSockets() {
	for _, ln := range st.socks {
		ln.Close()
	}
}

// waitDrained waits until the listeners removed by reloads drained, or
// ctx ends.
func (b *Balancer) waitDrained(ctx context.Context) error {
	done := make(chan struct{})
	go func() { b.drainWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("balancer: removed listeners still draining: %w", ctx.Err())
	}
}

// compile compiles every listener of cfg, with its certificates.
func (b *Balancer) compile(cfg *config.Config, groups map[string]Forwarder) ([]*listener, error) {
	arns := make(map[string]string, len(cfg.TargetGroups))
	for _, tg := range cfg.TargetGroups {
		arns[tg.Name] = tg.ARN
	}
	// One target group's error series are shared by the rules of every
	// listener that forward to it.
	groupErrs := map[string]*groupErrors{}
	var out []*listener
	for i := range cfg.Listeners {
		l, err := compileListener(b, i, &cfg.Listeners[i], groups, arns, groupErrs)
		if err != nil {
			return nil, err
		}
		if l.scheme == "https" {
			tc, certs, err := tlsConfig(cfg.Listeners[i].Certificates, cfg.Region, cfg.AccountID)
			if err != nil {
				return nil, fmt.Errorf("listeners[%d]: %w", i, err)
			}
			l.tls, l.certs = tc, certs
		}
		out = append(out, l)
	}
	return out, nil
}

// current is the listener serving l's socket now: the one a reload put
// there, else l.
func (l *listener) current() *listener {
	if n := l.next.Load(); n != nil {
		return n
	}
	return l
}

// tlsSwitch is the socket of a listener: each connection it accepts
// speaks TLS, with the certificates of the listener serving the socket at
// that moment, when that listener is HTTPS.
type tlsSwitch struct {
	net.Listener
	l *listener // the socket's owner
}

func (s *tlsSwitch) Accept() (net.Conn, error) {
	c, err := s.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc := s.l.current().tls; tc != nil {
		return tls.Server(c, tc), nil
	}
	return c, nil
}

// unwrapJoined flattens an errors.Join error into its parts.
func unwrapJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
