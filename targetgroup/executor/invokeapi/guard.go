package invokeapi

import (
	"bytes"
	"net/netip"
	"strings"

	"github.com/valyala/fasthttp"
)

// checkHead admits or refuses a request from its head alone, before any of
// its body is read: with credentials, verifyHead; without, a Host that is
// not loopback or the admin address (DNS rebinding) and an Origin (a web
// page) are refused, 403 AccessDeniedException.
func (a *API) checkHead(ctx *fasthttp.RequestCtx) (signedHead, *apiError) {
	if a.auth != nil {
		return a.auth.verifyHead(ctx)
	}
	h := &ctx.Request.Header
	if host := h.Host(); !a.hostAllowed(host) {
		// A page of attacker.example whose name the attacker re-points
		// at 127.0.0.1 reaches this listener as same-origin, with no
		// Origin on a GET, and could read every function's environment.
		return signedHead{}, errAccessDenied("Host " + quoteHost(host) + " is not a loopback name or address, nor admin.address: " +
			"requests for other names are refused (they come from web pages that re-point a DNS name here). " +
			"Use localhost or 127.0.0.1, or set admin.credentials.")
	}
	if len(h.Peek("Origin")) > 0 {
		// Unauthenticated, a browser's request for some web page would
		// get through: cross-site "simple" POSTs need no preflight.
		return signedHead{}, errAccessDenied("Requests from web browsers (with an Origin header) are refused unless admin credentials are configured.")
	}
	return signedHead{}, nil
}

// hostAllowed reports a Host header (with or without a port) naming
// localhost, a loopback address (127.0.0.0/8, ::1) or the admin address's
// own host. The usual hosts are recognised without allocating.
func (a *API) hostAllowed(hostport []byte) bool {
	host := hostport
	if len(host) > 0 && host[0] == '[' {
		end := bytes.IndexByte(host, ']')
		if end < 0 || (end+1 < len(host) && host[end+1] != ':') {
			return false
		}
		host = host[1:end]
	} else if i := bytes.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	switch {
	case len(host) == 0:
		return false
	case string(host) == "127.0.0.1", string(host) == "::1", bytes.EqualFold(host, []byte("localhost")):
		return true
	case a.adminHost != "" && bytes.EqualFold(host, []byte(a.adminHost)):
		return true
	}
	ip, err := netip.ParseAddr(string(host))
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

// quoteHost quotes a Host value for a message, cut to 100 bytes.
func quoteHost(h []byte) string {
	if len(h) > 100 {
		h = h[:100]
	}
	return `"` + strings.ToValidUTF8(string(h), "?") + `"`
}

// Body limits of the operations without a payload limit of their own
// (policies, event invoke configs): far above what they carry.
const maxControlBody = 1 << 20

// bodyLimit is the payload limit of the operation ctx asks for, from its
// head, and the operation's name for the 413 message: Invoke 6 MB
// (RequestResponse, DryRun) or 1 MB (Event, InvokeAsync).
func bodyLimit(ctx *fasthttp.RequestCtx) (limit int, op string) {
	path := ctx.Path()
	switch {
	case bytes.HasPrefix(path, []byte(prefixInvokeAsync)):
		return MaxAsyncPayload, "InvokeAsync"
	case bytes.HasPrefix(path, []byte(prefixFunctions)) && bytes.HasSuffix(path, []byte("/invocations")):
		if string(ctx.Request.Header.Peek("X-Amz-Invocation-Type")) == invocationEvent {
			return MaxAsyncPayload, "InvokeAsync"
		}
		return MaxSyncPayload, "InvokeFunction"
	}
	return maxControlBody, ""
}

// bodyPending reports a request whose body has not been read: answering
// it must not leave the client's bytes to a reset (intake.Linger).
func bodyPending(req *fasthttp.Request) bool {
	return req.IsBodyStream() && req.Header.ContentLength() != 0
}
