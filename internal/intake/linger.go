package intake

import (
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// Linger bounds: how long a refused client may keep sending, and how much
// of it is read (and dropped) meanwhile.
const (
	LingerTimeout = 2 * time.Second
	lingerMax     = 64 << 20
)

// Linger sends ctx.Response (with "Connection: close" and, when a reset
// response lost fasthttp's default, "Server: albedo") to a client whose body the handler refused
// unread, then shuts down the sending side and reads and drops what the
// client still sends, for up to LingerTimeout, before closing.
//
// Closing at once, as fasthttp does, would make the kernel answer the
// unread bytes with a reset, and a client still sending its body (an SDK
// that does not use "Expect: 100-continue") could lose the answer before
// reading it. Nothing received is kept: memory stays at one copy buffer.
// Call it last in the handler; the access log may still read ctx.Response.
func Linger(ctx *fasthttp.RequestCtx) {
	resp := &ctx.Response
	resp.SetConnectionClose()
	if len(resp.Header.Server()) == 0 {
		resp.Header.SetServer("albedo")
	}
	out := []byte(resp.String())
	conn := ctx.Conn()
	// fasthttp writes no response and applies none of its closing rules
	// (Connection: close among them) before a no-response hijack.
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(hc net.Conn) {
		deadline := time.Now().Add(LingerTimeout)
		_ = hc.SetDeadline(deadline)
		if _, err := hc.Write(out); err != nil {
			return
		}
		closeWrite(conn)
		_, _ = io.CopyN(io.Discard, hc, lingerMax)
	})
}
