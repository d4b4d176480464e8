package intake

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/valyala/fasthttp"
)

// Sentinel errors of Body.Read.
var (
	// ErrTooLarge: the body is (or is declared) larger than the limit.
	ErrTooLarge = errors.New("intake: request body too large")
	// ErrBudget: holding the body would exceed the process's body memory
	// budget (Budget).
	ErrBudget = errors.New("intake: body memory budget exhausted")
)

// PrefetchSize is the fasthttp.Server.MaxRequestBodySize that servers using
// Body must set, together with StreamRequestBody. With streaming, fasthttp
// reads min(MaxRequestBodySize, Content-Length, 8 KB) bytes of a body
// before calling the handler and hands it the rest as a stream, whatever the
// declared length; 1 keeps that prefetch to one byte, so every other byte
// is read by Body.Read, after the handler's checks, into a buffer that
// grows with what arrives.
const PrefetchSize = 1

// Buffer sizes: a body starts in a buffer of minBuffer bytes and doubles
// as it fills; buffers of minBuffer << i (i < pooledClasses) are reused,
// one pool per size, so that a small body never holds a large buffer.
const (
	minBuffer     = 4 << 10
	pooledClasses = 5 // 4 KB to 64 KB
)

var bufPools [pooledClasses]sync.Pool // of *[]byte

// getBuf returns an empty buffer of capacity c, with the pointer that
// carries it through its pool (nil when c is not a pooled size).
func getBuf(c int) ([]byte, *[]byte) {
	i := poolClass(c)
	if i < 0 {
		return make([]byte, 0, c), nil
	}
	if p, ok := bufPools[i].Get().(*[]byte); ok {
		return (*p)[:0], p
	}
	b := make([]byte, 0, c)
	return b, &b
}

// putBuf returns b, carried by p (from getBuf), to its pool; a nil p
// (not a pooled size) leaves b to the collector.
func putBuf(b []byte, p *[]byte) {
	if p == nil {
		return
	}
	*p = b[:0]
	bufPools[poolClass(cap(b))].Put(p)
}

func poolClass(c int) int {
	for i := range pooledClasses {
		if c == minBuffer<<i {
			return i
		}
	}
	return -1
}

// Body reads one request body within a size limit and a Budget. Use it on
// the handler's stack: Read, use the request body, then Release. It is not
// safe for concurrent use.
type Body struct {
	buf    []byte  // the body; its capacity is reserved from budget
	ptr    *[]byte // carries buf through its pool; nil when not pooled
	held   int     // bytes reserved from budget
	budget *Budget
	// installed: Read set the buffer as the request's body.
	installed bool
}

// Read reads req's body, at most limit bytes, and installs it as req's
// body (req.Body() returns it until Release).
//
// A body fasthttp already read whole (a server without StreamRequestBody,
// or a request built in memory) is only checked against limit. A streamed
// body is refused with ErrTooLarge before any of it is read when its
// Content-Length is over limit, and as soon as more than limit bytes
// arrived when it is chunked. Its buffer grows as bytes arrive (never more
// than twice what arrived, or 4 KB), each growth reserved from budget
// first: ErrBudget when that is refused. Other errors are the connection's
// (a read timeout is a net.Error with Timeout(), a client that went away
// io.ErrUnexpectedEOF); fasthttp then closes the connection, since the
// rest of the body was not read.
func (b *Body) Read(req *fasthttp.Request, limit int, budget *Budget) error {
	if !req.IsBodyStream() {
		if len(req.Body()) > limit {
			return ErrTooLarge
		}
		return nil
	}
	cl := req.Header.ContentLength()
	switch {
	case cl > limit:
		return ErrTooLarge
	case cl == 0:
		req.ResetBody()
		return nil
	}
	b.budget = budget
	if !budget.reserve(minBuffer) {
		return ErrBudget
	}
	b.held = minBuffer
	buf, ptr := getBuf(minBuffer)
	want := limit + 1 // a chunked body is read until it proves too large
	if cl > 0 {
		want = cl
	}
	stream := req.BodyStream()
	for idle := 0; len(buf) < want; {
		if len(buf) == cap(buf) {
			grown := 2 * cap(buf)
			if poolClass(grown) < 0 {
				grown = min(grown, want)
			}
			if !budget.reserve(grown - cap(buf)) {
				return b.fail(buf, ptr, ErrBudget)
			}
			b.held += grown - cap(buf)
			grownBuf, grownPtr := getBuf(grown)
			grownBuf = append(grownBuf, buf...)
			putBuf(buf, ptr)
			buf, ptr = grownBuf, grownPtr
		}
		n, err := stream.Read(buf[len(buf):min(cap(buf), want)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return b.fail(buf, ptr, fmt.Errorf("intake: read body: %w", err))
		}
		// A reader that keeps returning nothing and no error would
		// otherwise spin here.
		if n > 0 {
			idle = 0
		} else if idle++; idle > 100 {
			return b.fail(buf, ptr, fmt.Errorf("intake: read body: %w", io.ErrNoProgress))
		}
	}
	switch {
	case len(buf) > limit:
		return b.fail(buf, ptr, ErrTooLarge)
	case cl > 0 && len(buf) < cl:
		// fasthttp's request stream reports a client that hung up
		// before Content-Length bytes as a plain EOF.
		return b.fail(buf, ptr, fmt.Errorf("intake: read body: %w", io.ErrUnexpectedEOF))
	}
	b.buf, b.ptr = buf, ptr
	b.installed = true
	req.SetBodyRaw(buf)
	return nil
}

// fail keeps buf for Release (which gives back its reservation) and
// returns err.
func (b *Body) fail(buf []byte, ptr *[]byte, err error) error {
	b.buf, b.ptr = buf[:0], ptr
	return err
}

// Release gives the body's reservation back to its budget and its buffer
// to the pool, and detaches it from req. Call it once the handler no
// longer uses req's body; calling it without a Read, or twice, is safe.
func (b *Body) Release(req *fasthttp.Request) {
	if b.installed {
		req.ResetBody()
		b.installed = false
	}
	b.budget.release(b.held)
	b.held = 0
	if b.buf != nil {
		putBuf(b.buf, b.ptr)
		b.buf, b.ptr = nil, nil
	}
}
