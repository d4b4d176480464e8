package balancer

import "github.com/albedo-lb/albedo/internal/ascii"

// glob is a compiled ALB value pattern: '*' matches any run of bytes
// (including none), '?' matches exactly one byte, everything else matches
// itself. A pattern always covers the whole subject ("*.example.com" does not
// match "example.com"). Matching never allocates.
//
// '?' matches one byte, not one UTF-8 character: every subject ALB compares
// (host, raw path, raw query, header values) is visible ASCII in practice,
// and a byte keeps the matcher branch-free of UTF-8 decoding.
type glob struct {
	// lit holds the pattern's bytes, lower-cased when fold is set.
	lit []byte
	// kind marks each position of lit: 0 literal, '*' or '?' wildcard.
	kind []byte
	// fold compares ASCII letters case-insensitively.
	fold bool
	// exact is set when the pattern has no wildcard.
	exact bool
}

// compileGlob compiles pattern. With fold, ASCII letters match regardless of
// case. With escapes, "\*" and "\?" stand for a literal '*' and '?' (the
// query-string condition's rule); any other backslash is itself.
func compileGlob(pattern string, fold, escapes bool) glob {
	g := glob{
		lit:   make([]byte, 0, len(pattern)),
		kind:  make([]byte, 0, len(pattern)),
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
				continue // "**" is "*"; keeps backtracking linear in practice
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

// match reports whether s matches the whole pattern.
func (g *glob) match(s []byte) bool {
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
func (g *glob) eq(p, c byte) bool {
	if g.fold {
		c = ascii.Lower(c)
	}
	return p == c
}
