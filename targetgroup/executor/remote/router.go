package remote

import (
	"context"
	"slices"
	"strings"

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
// allocation to a local invocation (one map lookup).
type Router struct {
	local   Local
	remote  map[string]*Client // by name and by ARN
	clients []*Client
	listing []executor.Function // the remote functions
}

// NewRouter routes the clients' functions to them and every other name to
// local. Names must be distinct from the local functions' (the config
// guarantees it).
func NewRouter(local Local, clients []*Client) *Router {
	r := &Router{local: local, remote: make(map[string]*Client, 2*len(clients)), clients: clients}
	for _, c := range clients {
		r.remote[c.fn.Name] = c
		r.remote[c.fn.ARN] = c
	}
	for _, c := range clients {
		r.listing = append(r.listing, c.Describe())
	}
	return r
}

// Invoke runs req on the function req.Function names.
func (r *Router) Invoke(ctx context.Context, req executor.Request) (executor.Response, error) {
	if c := r.remote[req.Function]; c != nil {
		return c.Invoke(ctx, req)
	}
	return r.local.Invoke(ctx, req)
}

// Function describes the function called name; a remote function is also
// found by its ARN (as ListFunctions shows it), so that an SDK call naming
// that ARN reaches it through albedo.
func (r *Router) Function(name string) (executor.Function, bool) {
	if c := r.remote[name]; c != nil {
		return c.Describe(), true
	}
	return r.local.Function(name)
}

// Functions lists the local and remote functions, sorted by name. The
// local ones are the pool's copies, made afresh on every call.
func (r *Router) Functions() []executor.Function {
	out := append(r.local.Functions(), r.listing...)
	slices.SortFunc(out, func(a, b executor.Function) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Remote reports whether name is a remote function.
func (r *Router) Remote(name string) bool { return r.remote[name] != nil }

// CloseIdleConnections closes the remote clients' idle connections, at
// shutdown.
func (r *Router) CloseIdleConnections() {
	for _, c := range r.clients {
		c.httpc.CloseIdleConnections()
	}
}
