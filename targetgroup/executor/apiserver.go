package executor

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/httpwire"
)

// apiServer serves one environment's Runtime API: a goroutine per
// connection reads requests; the answer to a parked /next is written by
// the goroutine handing the invocation over (see env.handOff), so a warm
// invocation costs no goroutine switch on albedo's side of the hop.
type apiServer struct {
	e  *env
	ln net.Listener

	mu       sync.Mutex
	closed   bool
	conns    map[*apiConn]struct{}
	accepted int // connections accepted so far
}

func newAPIServer(e *env, ln net.Listener) *apiServer {
	return &apiServer{e: e, ln: ln, conns: make(map[*apiConn]struct{})}
}

// serve accepts connections until close.
func (s *apiServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(5 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		ac := newAPIConn(s.e, c)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[ac] = struct{}{}
		s.accepted++
		s.mu.Unlock()
		go func() {
			ac.serve()
			s.mu.Lock()
			delete(s.conns, ac)
			s.mu.Unlock()
		}()
	}
}

// close stops the listener and every connection.
func (s *apiServer) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.ln.Close()
	for ac := range s.conns {
		ac.c.Close()
	}
}

// apiConn is one connection of a runtime (or extension) to the API.
type apiConn struct {
	e *env
	c net.Conn
	r *httpwire.Reader
	w *httpwire.Writer // answers: /next's is written by another goroutine

	nextClose bool // the parked /next asked for Connection: close; guarded by env.mu
}

func newAPIConn(e *env, c net.Conn) *apiConn {
	return &apiConn{e: e, c: c, r: httpwire.NewReader(c, 8<<10), w: httpwire.NewWriter(c)}
}

// serve reads and answers requests until the connection ends.
func (ac *apiConn) serve() {
	defer ac.c.Close()
	for {
		if err := ac.r.Wait(); err != nil {
			ac.e.unpark(ac)
			return
		}
		if ac.e.unpark(ac) {
			// A request while our /next is still parked: HTTP/1.1
			// pipelining, which no runtime does. The connection goes.
			return
		}
		if err := ac.r.ReadHead(); err != nil {
			switch {
			case errors.Is(err, httpwire.ErrHeadTooLarge):
				ac.reply(http.StatusRequestHeaderFieldsTooLarge, badRequestBody, true)
			case errors.Is(err, httpwire.ErrBadRequest), errors.Is(err, httpwire.ErrUnsupportedTE):
				ac.reply(http.StatusBadRequest, badRequestBody, true)
			}
			return
		}
		if ac.e.route(ac) {
			continue // a parked /next: its answer comes later
		}
		if !ac.r.DiscardBody(256<<10) || ac.r.Req.Close {
			return
		}
	}
}

// continue100 lets a client that sent Expect: 100-continue send its body.
func (ac *apiConn) continue100() error {
	req := &ac.r.Req
	if !req.Expect {
		return nil
	}
	req.Expect = false
	return ac.w.End(append(ac.w.Begin(), httpwire.Continue...), nil)
}

// reply writes a JSON answer; closing adds Connection: close (the caller
// ends the connection).
func (ac *apiConn) reply(status int, body []byte, closing bool, extra ...string) {
	req := &ac.r.Req
	if !req.BodyDone && !req.Close && req.Expect {
		closing = true // the body will not come
	}
	if closing {
		req.Close = true
	}
	b := httpwire.AppendHead(ac.w.Begin(), status, jsonType, len(body), req.Close)
	for i := 0; i+1 < len(extra); i += 2 {
		b = httpwire.AppendField(b, extra[i], extra[i+1])
	}
	b = append(b, '\r', '\n')
	if err := ac.w.End(b, body); err != nil {
		req.Close = true
		ac.c.Close()
	}
}

// holdReply keeps a complete answer (no Connection: close) to be written
// in front of the connection's next answer, for a client that pipelined
// its next request.
func (ac *apiConn) holdReply(status int, body []byte) {
	b := httpwire.AppendHead(ac.w.Begin(), status, jsonType, len(body), false)
	b = append(b, '\r', '\n')
	ac.w.Hold(append(b, body...))
}

const jsonType = "application/json"

// writeNext writes the answer to a parked /next. It runs on the goroutine
// that handed inv over (or on the connection's own). A big payload gets
// the invocation's deadline for the write: a runtime that stops reading
// times out like one that stops answering.
//
// closeAfter is the /next's Connection: close, read under env.mu by the
// caller: once the runtime has the answer, the connection's goroutine may
// read a next /next and set nextClose again while this one still runs.
func (ac *apiConn) writeNext(inv *invocation, arn string, closeAfter bool) {
	b := httpwire.AppendHead(ac.w.Begin(), http.StatusOK, jsonType, len(inv.payload), closeAfter)
	b = httpwire.AppendField(b, hdrRequestID, inv.id)
	b = append(b, hdrDeadline+": "...)
	b = strconv.AppendInt(b, inv.deadline.UnixMilli(), 10)
	b = append(b, '\r', '\n')
	b = httpwire.AppendField(b, hdrFunctionARN, arn)
	b = httpwire.AppendField(b, hdrTraceID, inv.traceID)
	if inv.clientContext != "" {
		b = httpwire.AppendField(b, hdrClientContext, inv.clientContext)
	}
	if inv.cognito != "" {
		b = httpwire.AppendField(b, hdrCognito, inv.cognito)
	}
	b = append(b, '\r', '\n')
	big := len(inv.payload) > 256<<10
	if big {
		ac.c.SetWriteDeadline(inv.deadline)
	}
	if err := ac.w.End(b, inv.payload); err != nil || closeAfter {
		// On error the invocation stays delivered: the runtime's death
		// or the deadline ends it.
		ac.c.Close()
		return
	}
	if big {
		ac.c.SetWriteDeadline(time.Time{})
	}
}
