package balancer

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/lambdaadapter"
)

// ErrInvalidCondition reports a rule condition that cannot be compiled.
var ErrInvalidCondition = errors.New("balancer: invalid condition")

type condKind uint8

const (
	condHost condKind = iota + 1
	condPath
	condHeader
	condMethod
	condQuery
	condSourceIP
)

// condition is one compiled rule condition. Its values are OR'ed. It is a
// concrete struct dispatched on kind (not an interface) so that matching
// passes the request by pointer without it escaping to the heap.
type condition struct {
	kind     condKind
	globs    []config.Glob  // host, path, http-header values
	header   string         // http-header: header name (any case)
	methods  []string       // http-request-method, exact
	pairs    []queryPair    // query-string
	prefixes []netip.Prefix // source-ip
}

// queryPair is one compiled query-string key/value pattern.
type queryPair struct {
	hasKey bool
	key    config.Glob
	value  config.Glob
}

// match reports whether r satisfies the condition.
func (c *condition) match(r *request) bool {
	switch c.kind {
	case condHost:
		return anyGlob(c.globs, r.host)
	case condPath:
		return anyGlob(c.globs, r.path)
	case condMethod:
		for _, m := range c.methods {
			if string(r.method) == m {
				return true
			}
		}
		return false
	case condHeader:
		// Every occurrence of a repeated header is tried, in order.
		for _, v := range r.header.PeekAll(c.header) {
			if anyGlob(c.globs, v) {
				return true
			}
		}
		return false
	case condQuery:
		return c.matchQuery(r.query)
	case condSourceIP:
		if !r.peer.IsValid() {
			return false
		}
		ip := r.peer.Addr()
		for _, p := range c.prefixes {
			if p.Contains(ip) {
				return true
			}
		}
		return false
	}
	return false
}

func anyGlob(gs []config.Glob, s []byte) bool {
	for i := range gs {
		if gs[i].Match(s) {
			return true
		}
	}
	return false
}

// matchQuery walks the raw query's parameters exactly as the event reads
// them (lambdaadapter.NextQueryParam): a pair without '=' is a key with an
// empty value.
func (c *condition) matchQuery(q []byte) bool {
	for {
		key, value, rest, ok := lambdaadapter.NextQueryParam(q)
		if !ok {
			return false
		}
		q = rest
		for i := range c.pairs {
			p := &c.pairs[i]
			if p.hasKey && !p.key.Match(key) {
				continue
			}
			if p.value.Match(value) {
				return true
			}
		}
	}
}

// compileCondition turns one config condition into a matcher. Config
// validation has already enforced ALB's character sets and limits; here we
// only refuse what cannot be matched at all.
func compileCondition(cc config.Condition) (condition, error) {
	var c condition
	set := 0
	if len(cc.HostHeader) > 0 {
		set++
		c.kind = condHost
		for _, v := range cc.HostHeader {
			c.globs = append(c.globs, config.CompileGlob(v, config.GlobFoldCase))
		}
	}
	if len(cc.PathPattern) > 0 {
		set++
		c.kind = condPath
		for _, v := range cc.PathPattern {
			c.globs = append(c.globs, config.CompileGlob(v, 0))
		}
	}
	if cc.HTTPHeader != nil {
		set++
		c.kind = condHeader
		name := strings.TrimSpace(cc.HTTPHeader.Name)
		if name == "" || len(cc.HTTPHeader.Values) == 0 {
			return c, fmt.Errorf("%w: http_header needs a name and values", ErrInvalidCondition)
		}
		c.header = name // PeekAll normalises the case
		for _, v := range cc.HTTPHeader.Values {
			c.globs = append(c.globs, config.CompileGlob(v, config.GlobFoldCase))
		}
	}
	if len(cc.HTTPRequestMethod) > 0 {
		set++
		c.kind = condMethod
		c.methods = append(c.methods, cc.HTTPRequestMethod...)
	}
	if len(cc.QueryString) > 0 {
		set++
		c.kind = condQuery
		for _, p := range cc.QueryString {
			c.pairs = append(c.pairs, queryPair{
				hasKey: p.Key != "",
				key:    config.CompileGlob(p.Key, config.GlobFoldCase|config.GlobEscapes),
				value:  config.CompileGlob(p.Value, config.GlobFoldCase|config.GlobEscapes),
			})
		}
	}
	if len(cc.SourceIP) > 0 {
		set++
		c.kind = condSourceIP
		for _, v := range cc.SourceIP {
			p, err := netip.ParsePrefix(strings.TrimSpace(v))
			if err != nil {
				return c, fmt.Errorf("%w: source_ip %q: %w", ErrInvalidCondition, v, err)
			}
			c.prefixes = append(c.prefixes, p.Masked())
		}
	}
	if set != 1 {
		return c, fmt.Errorf("%w: exactly one condition type must be set, got %d", ErrInvalidCondition, set)
	}
	return c, nil
}
