package config

import "github.com/albedo-lb/albedo/internal/ascii"

// Glob is a compiled wildcard pattern, the one albedo has: ALB rule
// conditions (host, path, http-header and query-string values, compiled
// by the balancer) and policy source ARNs (ArnLike, see Allows) both use
// it. '*' matches any run of bytes (none included), '?' exactly one byte,
// everything else itself. A pattern covers the whole subject
// ("*.example.com" does not match "example.com"). Matching never allocates
// and runs in O(len(pattern)*len(subject)) at worst.
//
// '?' matches one byte, not one UTF-8 character: every subject ALB
// compares (host, raw path, raw query, header values, ARNs) is visible
// ASCII in practice, and a byte keeps the matcher free of UTF-8 decoding.
//
// A Glob is read-only once compiled and safe for concurrent use; the zero
// Glob matches only the empty subject.
type Glob struct {
	// lit holds the pattern's bytes, lower-cased with GlobFoldCase.
	lit []byte
	// kind marks each position of lit: 0 literal, '*' or '?' wildcard.
	kind []byte
	// fold compares ASCII letters case-insensitively.
	fold bool
	// exact is set when the pattern has no wildcard.
	exact bool
}

// GlobMode selects how CompileGlob reads a pattern.
type GlobMode uint8

const (
	// GlobFoldCase makes ASCII letters match regardless of case (ALB's
	// host, http-header and query-string conditions).
	GlobFoldCase GlobMode = 1 << iota
	// GlobEscapes makes "\*" and "\?" a literal '*' and '?' (ALB's
	// query-string condition); any other backslash is itself.
	GlobEscapes
)

// CompileGlob compiles pattern. "**" is read as "*", which keeps the
// backtracking of Match linear in practice.
func CompileGlob(pattern string, mode GlobMode) Glob {
	fold, escapes := mode&GlobFoldCase != 0, mode&GlobEscapes != 0
	buf := make([]byte, 2*len(pattern)) // one allocation for lit and kind
	g := Glob{
		lit:   buf[:0:len(pattern)],
		kind:  buf[len(pattern):len(pattern)],
		fold:  fold,
		exact: true,
	}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case escapes && c == '\\' && i+1 < len(pattern) && (pattern[i+1] == '*' || pattern[i+1] == '?'):
			i++
			g.lit = append(g.lit, pattern[i])
			g.kind = append(g.kind, 0)
		case c == '*' || c == '?':
			if c == '*' && len(g.kind) > 0 && g.kind[len(g.kind)-1] == '*' {
				continue
			}
			g.lit = append(g.lit, c)
			g.kind = append(g.kind, c)
			g.exact = false
		default:
			if fold {
				c = ascii.Lower(c)
			}
			g.lit = append(g.lit, c)
			g.kind = append(g.kind, 0)
		}
	}
	return g
}

// Match reports whether s matches the whole pattern.
func (g *Glob) Match(s []byte) bool { return match(g, s) }

// MatchString reports whether s matches the whole pattern.
func (g *Glob) MatchString(s string) bool { return match(g, s) }

// match is Match for both subject types: the request path has []byte
// views of fasthttp's buffers, policy evaluation has strings, and neither
// should convert.
func match[S string | []byte](g *Glob, s S) bool {
	n := len(g.lit)
	if g.exact {
		if len(s) != n {
			return false
		}
		for i := range n {
			if !g.eq(g.lit[i], s[i]) {
				return false
			}
		}
		return true
	}
	// Iterative matcher with one backtrack point: on a mismatch, the last
	// '*' seen absorbs one more byte. Sufficient because a later '*' can
	// always re-synchronise whatever an earlier one would have.
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < n {
			switch g.kind[pi] {
			case '*':
				starP, starS = pi, si
				pi++
				continue
			case '?':
				pi++
				si++
				continue
			default:
				if g.eq(g.lit[pi], s[si]) {
					pi++
					si++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		pi = starP + 1
		starS++
		si = starS
	}
	for pi < n && g.kind[pi] == '*' {
		pi++
	}
	return pi == n
}

// eq compares a pattern byte (already lower-cased when folding) with a
// subject byte.
func (g *Glob) eq(p, c byte) bool {
	if g.fold {
		c = ascii.Lower(c)
	}
	return p == c
}
