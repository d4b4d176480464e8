package intake

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// ErrBareLF is the read error a Conn reports when a request's header block
// ends with a bare LF ("\n\n" instead of "\r\n\r\n") and nothing more
// arrives: fasthttp accepts only a CRLFCRLF terminator and would otherwise
// wait for one until its read timeout. Servers answer it with 400.
var ErrBareLF = errors.New("intake: request header block ends with a bare LF")

// bareLFGrace is how long a Conn waits for more bytes after a bare-LF
// blank line before reporting ErrBareLF: bytes that keep coming mean the
// blank line was not the end of a header block after all (see Conn).
const bareLFGrace = 100 * time.Millisecond

// Listen wraps ln so that every connection it accepts is served through a
// Conn. Wrap a tls.Listener's result (TLS outside, Conn inside), so that
// Conn sees the plaintext.
func Listen(ln net.Listener) net.Listener { return &listener{ln} }

type listener struct{ net.Listener }

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return wrap(c), nil
}

// Conn is an accepted connection as albedo's servers see it. It watches
// the bytes of each request's header block for its end and reports a
// block that ends with a bare LF (ErrBareLF) instead of letting fasthttp
// wait; it knows the TCP socket below any TLS layer (PeerGone, Linger).
//
// Only the start of a request is watched: from the connection's start or
// Done until the first blank line. A Conn is used by its connection's
// serving goroutine only.
type Conn struct {
	net.Conn
	id  uint64          // ConnID
	tls *tls.Conn       // the TLS layer, nil for plain HTTP
	raw syscall.RawConn // the TCP socket; nil when there is none

	armed bool    // watching for the end of a header block
	bad   bool    // that end was a bare-LF blank line
	tail  [3]byte // the last bytes seen while armed, most recent last
	rd    time.Time

	gone  bool             // peerGone's result, set by check
	check func(fd uintptr) // c.checkFD, bound once
}

// tlsConn is a Conn over TLS. It keeps fasthttp's TLS detection
// (RequestCtx.IsTLS), which looks for these two methods.
type tlsConn struct{ *Conn }

func (c tlsConn) Handshake() error                     { return c.tls.Handshake() }
func (c tlsConn) ConnectionState() tls.ConnectionState { return c.tls.ConnectionState() }

// connIDs numbers the connections of the process, from 1.
var connIDs atomic.Uint64

func wrap(nc net.Conn) net.Conn {
	c := &Conn{Conn: nc, armed: true, id: connIDs.Add(1)}
	c.check = c.checkFD
	inner := nc
	if tc, ok := nc.(*tls.Conn); ok {
		c.tls = tc
		inner = tc.NetConn()
	}
	if sc, ok := inner.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.raw = rc
		}
	}
	if c.tls != nil {
		return tlsConn{c}
	}
	return c
}

// unwrap returns the Conn behind nc, or nil when nc is not one.
func unwrap(nc net.Conn) *Conn {
	switch c := nc.(type) {
	case *Conn:
		return c
	case tlsConn:
		return c.Conn
	}
	return nil
}

// ConnID is the number of a connection accepted through Listen, unique in
// the process (0 for another connection). Unlike fasthttp's
// RequestCtx.ConnID it is known from the moment of accept, in an
// ExpectHandler too.
func ConnID(nc net.Conn) uint64 {
	if c := unwrap(nc); c != nil {
		return c.id
	}
	return 0
}

// TLS returns the TLS layer of a connection accepted through Listen (or a
// bare *tls.Conn), nil for plain HTTP.
func TLS(nc net.Conn) *tls.Conn {
	if c := unwrap(nc); c != nil {
		return c.tls
	}
	tc, _ := nc.(*tls.Conn)
	return tc
}

// Read reads from the connection; see ErrBareLF.
func (c *Conn) Read(p []byte) (int, error) {
	if c.bad {
		return c.readAfterBareLF(p)
	}
	n, err := c.Conn.Read(p)
	if c.armed && n > 0 {
		c.scan(p[:n])
	}
	return n, err
}

// readAfterBareLF waits a short while for more bytes after a bare-LF
// blank line. None: fasthttp is waiting for a CRLFCRLF that will not come,
// so ErrBareLF. Some: the blank line was inside a body (a pipelined
// request's, which Done could not see coming); watching stops.
func (c *Conn) readAfterBareLF(p []byte) (int, error) {
	deadline := time.Now().Add(bareLFGrace)
	own := c.rd.IsZero() || deadline.Before(c.rd)
	if !own {
		deadline = c.rd
	}
	if err := c.Conn.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if derr := c.Conn.SetReadDeadline(c.rd); derr != nil && err == nil {
		err = derr
	}
	if n > 0 {
		c.bad, c.armed = false, false
		return n, err
	}
	var ne net.Error
	if own && errors.As(err, &ne) && ne.Timeout() {
		return 0, ErrBareLF
	}
	return n, err
}

// scan looks for the blank line that ends the header block in p, the next
// bytes of the connection.
func (c *Conn) scan(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.push(p)
			return
		}
		c.push(p[:i])
		t := c.tail
		if t[2] == '\n' || (t[2] == '\r' && t[1] == '\n') {
			// A blank line: the header block ends here. Only CRLF CRLF
			// is what fasthttp accepts.
			c.armed = false
			c.bad = !(t[0] == '\r' && t[1] == '\n' && t[2] == '\r')
			return
		}
		c.push(p[i : i+1])
		p = p[i+1:]
	}
}

// push appends b to the 3-byte tail.
func (c *Conn) push(b []byte) {
	switch {
	case len(b) >= 3:
		copy(c.tail[:], b[len(b)-3:])
	case len(b) == 2:
		c.tail = [3]byte{c.tail[2], b[0], b[1]}
	case len(b) == 1:
		c.tail = [3]byte{c.tail[1], c.tail[2], b[0]}
	}
}

// SetReadDeadline records the server's read deadline, which
// readAfterBareLF restores.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.rd = t
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline records the read deadline, as SetReadDeadline.
func (c *Conn) SetDeadline(t time.Time) error {
	c.rd = t
	return c.Conn.SetDeadline(t)
}

// Done ends a request on its connection: the start of the next request is
// watched again (ErrBareLF) once this request's body has been read. Call
// it at the end of every handler. When the body was left unread (fasthttp
// drains it after the response, or closes), watching stays off until a
// later request's handler calls Done with its body read.
func Done(ctx *fasthttp.RequestCtx) {
	c := unwrap(ctx.Conn())
	if c == nil {
		return
	}
	if ctx.Request.IsBodyStream() && ctx.Request.Header.ContentLength() != 0 {
		return
	}
	c.armed, c.bad, c.tail = true, false, [3]byte{}
}

// PeerGone reports whether the client of a connection accepted through
// Listen has closed its side (FIN) or reset it, without blocking and
// without reading: a non-blocking socket query, TLS included. False when
// it cannot tell (not a TCP socket, or a platform without the query).
func PeerGone(nc net.Conn) bool {
	c := unwrap(nc)
	if c == nil || c.raw == nil {
		return false
	}
	c.gone = false
	if err := c.raw.Control(c.check); err != nil {
		return false
	}
	return c.gone
}

// closeWrite shuts down the sending side of nc (TCP FIN, or a TLS
// close_notify), leaving its receiving side open.
func closeWrite(nc net.Conn) {
	if c := unwrap(nc); c != nil {
		if c.tls != nil {
			_ = c.tls.CloseWrite()
			return
		}
		nc = c.Conn
	}
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}
