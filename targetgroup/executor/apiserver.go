package executor

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
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
		ac := &apiConn{e: s.e, c: c}
		ac.br = bufio.NewReaderSize(c, 8<<10)
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
	apiReader
	e *env
	c net.Conn

	wmu       sync.Mutex // orders answers: /next's is written by another goroutine
	wbuf      []byte     // guarded by wmu
	deferred  []byte     // guarded by wmu: an answer written in front of the next one
	nextClose bool       // the parked /next asked for Connection: close; guarded by env.mu
}

// serve reads and answers requests until the connection ends.
func (ac *apiConn) serve() {
	defer ac.c.Close()
	for {
		if _, err := ac.br.Peek(1); err != nil {
			ac.e.unpark(ac)
			return
		}
		if ac.e.unpark(ac) {
			// A request while our /next is still parked: HTTP/1.1
			// pipelining, which no runtime does. The connection goes.
			return
		}
		if err := ac.readHead(); err != nil {
			switch {
			case errors.Is(err, errHeadTooLarge):
				ac.reply(http.StatusRequestHeaderFieldsTooLarge, badRequestBody, true)
			case errors.Is(err, errBadRequest), errors.Is(err, errUnsupportedTE):
				ac.reply(http.StatusBadRequest, badRequestBody, true)
			}
			return
		}
		if ac.e.route(ac) {
			continue // a parked /next: its answer comes later
		}
		if !ac.discardBody(256<<10) || ac.req.close {
			return
		}
	}
}

// continue100 lets a client that sent Expect: 100-continue send its body.
func (ac *apiConn) continue100() error {
	if !ac.req.expect {
		return nil
	}
	ac.req.expect = false
	ac.wmu.Lock()
	defer ac.wmu.Unlock()
	_, err := ac.c.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
	return err
}

// reply writes a JSON answer; closing adds Connection: close (the caller
// ends the connection).
func (ac *apiConn) reply(status int, body []byte, closing bool, extra ...string) {
	if !ac.req.bodyDone && !ac.req.close && ac.req.expect {
		closing = true // the body will not come
	}
	if closing {
		ac.req.close = true
	}
	ac.wmu.Lock()
	defer ac.wmu.Unlock()
	b := appendHead(ac.takeDeferredLocked(), status, len(body), ac.req.close)
	for i := 0; i+1 < len(extra); i += 2 {
		b = appendHeader(b, extra[i], extra[i+1])
	}
	b = append(b, '\r', '\n')
	if err := ac.writeLocked(b, body); err != nil {
		ac.req.close = true
		ac.c.Close()
	}
}

// deferReply keeps a complete answer (no Connection: close) to be written
// in front of the connection's next answer, for a client that pipelined
// its next request.
func (ac *apiConn) deferReply(status int, body []byte) {
	ac.wmu.Lock()
	defer ac.wmu.Unlock()
	b := appendHead(ac.takeDeferredLocked(), status, len(body), false)
	b = append(b, '\r', '\n')
	ac.deferred = append(b, body...)
	ac.wbuf = nil // now owned by deferred
}

// takeDeferredLocked returns the write buffer, holding the deferred
// answer if there is one. ac.wmu is held.
func (ac *apiConn) takeDeferredLocked() []byte {
	if ac.deferred == nil {
		return ac.wbuf[:0]
	}
	b := ac.deferred
	ac.deferred = nil
	return b
}

// writeLocked writes head and body, in one write when small. ac.wmu is held.
func (ac *apiConn) writeLocked(head, body []byte) error {
	var err error
	if len(head)+len(body) <= 32<<10 {
		head = append(head, body...)
		_, err = ac.c.Write(head)
	} else {
		bufs := net.Buffers{head, body}
		_, err = bufs.WriteTo(ac.c)
	}
	if cap(head) <= 64<<10 {
		ac.wbuf = head[:0]
	}
	return err
}

// writeNext writes the answer to a parked /next. It runs on the goroutine
// that handed inv over (or on the connection's own). A big payload gets
// the invocation's deadline for the write: a runtime that stops reading
// times out like one that stops answering.
func (ac *apiConn) writeNext(inv *invocation, arn string) {
	ac.wmu.Lock()
	defer ac.wmu.Unlock()
	b := appendHead(ac.takeDeferredLocked(), http.StatusOK, len(inv.payload), ac.nextClose)
	b = appendHeader(b, hdrRequestID, inv.id)
	b = append(b, hdrDeadline+": "...)
	b = strconv.AppendInt(b, inv.deadline.UnixMilli(), 10)
	b = append(b, '\r', '\n')
	b = appendHeader(b, hdrFunctionARN, arn)
	b = appendHeader(b, hdrTraceID, inv.traceID)
	if inv.clientContext != "" {
		b = appendHeader(b, hdrClientContext, inv.clientContext)
	}
	if inv.cognito != "" {
		b = appendHeader(b, hdrCognito, inv.cognito)
	}
	b = append(b, '\r', '\n')
	big := len(inv.payload) > 256<<10
	if big {
		ac.c.SetWriteDeadline(inv.deadline)
	}
	if err := ac.writeLocked(b, inv.payload); err != nil || ac.nextClose {
		// On error the invocation stays delivered: the runtime's death
		// or the deadline ends it.
		ac.c.Close()
		return
	}
	if big {
		ac.c.SetWriteDeadline(time.Time{})
	}
}

// appendHead appends a status line and the headers every answer has.
func appendHead(b []byte, status, length int, closing bool) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\nContent-Type: application/json\r\nDate: "...)
	b = appendDate(b)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(length), 10)
	b = append(b, '\r', '\n')
	if closing {
		b = append(b, "Connection: close\r\n"...)
	}
	return b
}

// appendHeader appends one header line. Values come from callers (a
// client context, a trace header, a request id): line breaks become
// spaces, as net/http writes them, so no value can end the head early or
// add a header.
func appendHeader(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ':', ' ')
	n := len(b)
	b = append(b, value...)
	for i := n; i < len(b); i++ {
		if b[i] == '\r' || b[i] == '\n' {
			b[i] = ' '
		}
	}
	return append(b, '\r', '\n')
}

// appendDate appends the current time in HTTP's format, from a cache
// refreshed once a second.
func appendDate(b []byte) []byte {
	now := time.Now().Unix()
	dateMu.Lock()
	if now != dateSec {
		dateSec = now
		dateBuf = time.Unix(now, 0).UTC().AppendFormat(dateBuf[:0], http.TimeFormat)
	}
	b = append(b, dateBuf...)
	dateMu.Unlock()
	return b
}

var (
	dateMu  sync.Mutex
	dateSec int64
	dateBuf []byte
)
