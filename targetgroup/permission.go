package targetgroup

import (
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/albedo-lb/albedo/config"
)

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

// invokeAction is the action the ALB needs on the function.
const invokeAction = "lambda:InvokeFunction"

// permKey identifies one permission decision.
type permKey struct {
	groupARN string
	function string
	revision uint64
}

// permissionCache holds decisions for every group of one balancer. Entries
// for old revisions are never read again and age out of the LRU.
type permissionCache struct {
	cache   *lru.Cache[permKey, bool]
	account string
}

// permissionCacheSize bounds the cache: a few revisions of every group.
const permissionCacheSize = 4096

func newPermissionCache(account string) *permissionCache {
	c, err := lru.New[permKey, bool](permissionCacheSize)
	if err != nil {
		panic("targetgroup: BUG: " + err.Error()) // only for size <= 0
	}
	return &permissionCache{cache: c, account: account}
}

// decision is one group's last permission decision, at a policy revision.
type decision struct {
	revision uint64
	ok       bool
}

// permitted reports whether the group's function lets the ALB invoke it
// from the group's ARN. The group's last decision is read without a lock;
// only a new policy revision goes to the shared cache (which takes one).
func (g *Group) permitted() bool {
	stmts, rev := g.pol.Statements(g.function)
	if d := g.lastPerm.Load(); d != nil && d.revision == rev {
		return d.ok
	}
	ok := g.perms.allowed(g.arn, g.function, stmts, rev)
	g.lastPerm.Store(&decision{revision: rev, ok: ok})
	return ok
}

// allowed reports whether stmts (at revision rev) let the ALB invoke
// function from groupARN.
func (p *permissionCache) allowed(groupARN, function string, stmts []config.Statement, rev uint64) bool {
	k := permKey{groupARN: groupARN, function: function, revision: rev}
	if ok, hit := p.cache.Get(k); hit {
		return ok
	}
	ok := config.Allows(stmts, config.ELBPrincipal, invokeAction, groupARN, p.account)
	p.cache.Add(k, ok)
	return ok
}
