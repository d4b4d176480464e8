package balancer

import (
	"bytes"
	"net"
	"net/netip"

	"github.com/valyala/fasthttp"
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

// parseRequest fills r from ctx without allocating.
func (r *request) parse(ctx *fasthttp.RequestCtx) {
	h := &ctx.Request.Header
	r.header = h
	r.method = h.Method()
	r.host = stripPort(h.Host())
	r.path, r.query = splitURI(h.RequestURI())
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

// splitURI splits a request-target into its raw path and raw query. An
// absolute-form target ("http://host/p?q", whatever the scheme) is reduced
// to its path; an empty path becomes "/". It must cut exactly as
// lambdaadapter does for the event's path, or a path rule could be
// side-stepped ("GET ftp://h/admin" matching no "/admin*" rule while the
// function sees "/admin").
func splitURI(uri []byte) (path, query []byte) {
	if i := bytes.IndexByte(uri, '#'); i >= 0 {
		uri = uri[:i]
	}
	if i := schemeEnd(uri); i > 0 {
		rest := uri[i:]
		j := bytes.IndexAny(rest, "/?")
		if j < 0 {
			return slash, nil
		}
		uri = rest[j:]
	}
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		path, query = uri[:i], uri[i+1:]
	} else {
		path = uri
	}
	if len(path) == 0 {
		path = slash
	}
	return path, query
}

var slash = []byte("/")

// schemeEnd returns the index after "scheme://" at the start of uri, or 0:
// the first "://" counts when it is not at the start and nothing before it
// is '/' or '?' (lambdaadapter's rule).
func schemeEnd(uri []byte) int {
	if len(uri) == 0 || uri[0] == '/' {
		return 0
	}
	i := bytes.Index(uri, []byte("://"))
	if i <= 0 || bytes.IndexAny(uri[:i], "/?") >= 0 {
		return 0
	}
	return i + len("://")
}

// equalFoldASCII compares b and s ignoring ASCII case.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}
