package remote

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// Local is the local Lambda service, *executor.Pool.
type Local interface {
	Invoke(ctx context.Context, req executor.Request) (executor.Response, error)
	Function(name string) (executor.Function, bool)
	Functions() []executor.Function // sorted by name
}

// Router is the one Invoker of target groups, the Invoke API, the async
// queue and health checks: it sends each invocation to the remote function
// of that name, or else to the local pool. It adds no lock and no
// allocation to a local invocation (an atomic load and one map lookup).
// SetClients replaces the remote functions (a reload); the local ones
// follow the pool's own updates.
type Router struct {
	local  Local
	routes atomic.Pointer[routes]
}

// routes are the remote functions of one configuration; immutable.
type routes struct {
	remote  map[string]*Client // by name and by ARN
	clients []*Client
	listing []executor.Function // the remote functions
}

// NewRouter routes the clients' functions to them and every other name to
// local. Names must be distinct from the local functions' (the config
// guarantees it).
func NewRouter(local Local, clients []*Client) *Router {
	r := &Router{local: local}
	r.SetClients(clients)
	return r
}

// SetClients makes clients the remote functions, from the next invocation
// on; invocations already sent on a client that is no longer there finish
// on it.
func (r *Router) SetClients(clients []*Client) {
	rt := &routes{remote: make(map[string]*Client, 2*len(clients)), clients: slices.Clone(clients)}
	for _, c := range clients {
		rt.remote[c.fn.Name] = c
		rt.remote[c.fn.ARN] = c
	}
	for _, c := range clients {
		rt.listing = append(rt.listing, c.Describe())
	}
	r.routes.Store(rt)
}

// Clients returns the remote functions' clients, in the order given.
func (r *Router) Clients() []*Client { return slices.Clone(r.routes.Load().clients) }

// Invoke runs req on the function req.Function names.
func (r *Router) Invoke(ctx context.Context, req executor.Request) (executor.Response, error) {
	if c := r.routes.Load().remote[req.Function]; c != nil {
		return c.Invoke(ctx, req)
	}
	return r.local.Invoke(ctx, req)
}

// Function describes the function called name; a remote function is also
// found by its ARN (as ListFunctions shows it), so that an SDK call naming
// that ARN reaches it through albedo.
func (r *Router) Function(name string) (executor.Function, bool) {
	if c := r.routes.Load().remote[name]; c != nil {
		return c.Describe(), true
	}
	return r.local.Function(name)
}

// Functions lists the local and remote functions, sorted by name. The
// local ones are the pool's copies, made afresh on every call.
func (r *Router) Functions() []executor.Function {
	out := append(r.local.Functions(), r.routes.Load().listing...)
	slices.SortFunc(out, func(a, b executor.Function) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Remote reports whether name is a remote function.
func (r *Router) Remote(name string) bool { return r.routes.Load().remote[name] != nil }

// CloseIdleConnections closes the remote clients' idle connections, at
// shutdown.
func (r *Router) CloseIdleConnections() {
	for _, c := range r.routes.Load().clients {
		c.CloseIdleConnections()
	}
}

// CloseIdleConnections closes the client's idle connections (a client a
// reload dropped, or at shutdown).
func (c *Client) CloseIdleConnections() { c.httpc.CloseIdleConnections() }
