package invokeapi

import (
	"bytes"
	"crypto/subtle"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/internal/intake"
)

// Route is an extra read-only endpoint served on the admin listener beside
// the Lambda API (cmd/albedo's /metrics, /healthz, /readyz,
// /targetgroups): GET and HEAD of exactly Path run Handler; other methods
// get 405. The package knows nothing of what they serve.
//
// Access: a Public route is open to every client (it must reveal nothing:
// liveness and readiness). Any other route is admitted as the Lambda API
// is (a SigV4 signature with admin credentials; without them a loopback
// or admin-address Host and no Origin: the DNS-rebinding check), or by
// "Authorization: Bearer <Options.OpsToken>" from any host, since a
// Prometheus scraper can send a bearer token but cannot sign.
type Route struct {
	Path    string
	Public  bool
	Handler fasthttp.RequestHandler
}

// serveRoute serves the Route at ctx's path, if there is one, and reports
// whether it did. body is the request's, released by Handle.
func (a *API) serveRoute(ctx *fasthttp.RequestCtx, body *intake.Body, requestID string) bool {
	r, ok := a.routes[string(ctx.Path())]
	if !ok {
		return false
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		writeError(ctx, newError(fasthttp.StatusMethodNotAllowed, excUnknownOperation, string(ctx.Path())+" is read-only: only GET and HEAD are served."), requestID)
		ctx.Response.Header.Set(fasthttp.HeaderAllow, "GET, HEAD")
		if bodyPending(&ctx.Request) {
			intake.Linger(ctx)
		}
		return true
	}
	if !r.Public && !a.opsTokenOK(&ctx.Request.Header) {
		if e := a.admit(ctx, body); e != nil {
			writeError(ctx, e, requestID)
			if bodyPending(&ctx.Request) {
				intake.Linger(ctx)
			}
			return true
		}
	}
	r.Handler(ctx)
	return true
}

// expectRoute decides "Expect: 100-continue" for a route: true when the
// request may go on without the API's own head checks (a public route, or
// the ops token).
func (a *API) expectRoute(ctx *fasthttp.RequestCtx) bool {
	r, ok := a.routes[string(ctx.Path())]
	return ok && (r.Public || a.opsTokenOK(&ctx.Request.Header))
}

// opsTokenOK reports "Authorization: Bearer <OpsToken>", compared in
// constant time.
func (a *API) opsTokenOK(h *fasthttp.RequestHeader) bool {
	if a.opsToken == "" {
		return false
	}
	auth := h.Peek(fasthttp.HeaderAuthorization)
	const scheme = "bearer "
	if len(auth) <= len(scheme) || !bytes.EqualFold(auth[:len(scheme)], []byte(scheme)) {
		return false
	}
	return subtle.ConstantTimeCompare(bytes.TrimSpace(auth[len(scheme):]), []byte(a.opsToken)) == 1
}
