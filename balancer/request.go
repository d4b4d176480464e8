package balancer

import (
	"bytes"
	"net"
	"net/netip"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/lambdaadapter"
)

// request is the part of an incoming request the rules look at, sliced out
// of the fasthttp request once per request. Its byte slices alias fasthttp's
// buffers: valid only inside the handler, never retained.
type request struct {
	method []byte
	host   []byte // Host header without ":port"
	path   []byte // raw path as sent, percent-encoding kept, no query
	query  []byte // raw query without '?', nil when absent
	peer   netip.AddrPort
	header *fasthttp.RequestHeader
}

// parse fills r from ctx without allocating.
func (r *request) parse(ctx *fasthttp.RequestCtx) {
	h := &ctx.Request.Header
	r.header = h
	r.method = h.Method()
	r.host = stripPort(h.Host())
	r.path, r.query = lambdaadapter.SplitRequestURI(h.RequestURI())
	r.peer = peerAddr(ctx.RemoteAddr())
}

// peerAddr is the TCP peer as a netip.AddrPort, IPv4-mapped IPv6 unmapped.
// Non-TCP peers (in-memory listeners) give the zero AddrPort.
func peerAddr(a net.Addr) netip.AddrPort {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(ta.Port))
}

// stripPort removes a ":port" suffix from a Host value; IPv6 literals keep
// their brackets.
func stripPort(host []byte) []byte {
	if len(host) > 0 && host[0] == '[' {
		if i := bytes.IndexByte(host, ']'); i >= 0 {
			return host[:i+1]
		}
		return host
	}
	if i := bytes.IndexByte(host, ':'); i >= 0 {
		return host[:i]
	}
	return host
}
