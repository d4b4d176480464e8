package targetgroup

import "github.com/albedo-lb/albedo/config"

// Policies supplies a function's current resource-based policy statements
// and a revision that changes whenever they change. The policy API's store
// implements it; StaticPolicies serves the config file's statements.
type Policies interface {
	Statements(function string) ([]config.Statement, uint64)
}

// StaticPolicies serves the statements of the config file (revision 0).
type StaticPolicies map[string][]config.Statement

// Statements implements Policies.
func (s StaticPolicies) Statements(function string) ([]config.Statement, uint64) {
	return s[function], 0
}

// decision is one group's last permission decision, at a policy revision.
type decision struct {
	revision uint64
	ok       bool
}

// permitted reports whether the group's function lets the ALB invoke it
// from the group's ARN. The group keeps its last decision and evaluates
// the policy again only when the revision changed; the steady state reads
// one atomic pointer. Revisions only grow, so an older decision is never
// asked for again: a cache of decisions by revision hits only when callers
// race on a change, and costs more than it saves (BenchmarkPermitted).
func (g *Group) permitted() bool {
	stmts, rev := g.pol.Statements(g.function)
	if d := g.lastPerm.Load(); d != nil && d.revision == rev {
		return d.ok
	}
	ok := config.Allows(stmts, config.ELBPrincipal, config.InvokeAction, g.arn, g.account)
	g.lastPerm.Store(&decision{revision: rev, ok: ok})
	return ok
}
