// Package ascii is the byte-level HTTP grammar that albedo's packages
// share: RFC 9110 token characters and ASCII case folding. config checks
// rule header names with it and folds case in Glob, lambdaadapter checks
// function response header names and lower-cases request header names,
// the balancer compares the Upgrade header.
//
// It imports nothing. config and lambdaadapter are the leaves of albedo's
// architecture and must not import each other or any layer above them (see
// README, Layout); a package of pure byte functions beneath all of them,
// used the way they use the standard library, keeps that true while
// giving each idea one implementation. The functions are small enough to
// be inlined, so the request path pays no call for the package boundary.
package ascii

// IsTokenChar reports whether c may appear in an HTTP token such as a
// header name (RFC 9110 §5.6.2 tchar): a letter, a digit or one of
// !#$%&'*+-.^_`|~.
func IsTokenChar(c byte) bool { return tokenChars[c] }

var tokenChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// Lower returns c with an ASCII capital letter turned into its small one;
// every other byte is returned unchanged.
func Lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// EqualFold reports whether b and s are equal when ASCII letters are
// compared regardless of case. Other bytes, UTF-8 included, must be equal:
// unlike strings.EqualFold, the Kelvin sign does not match "k".
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if Lower(b[i]) != Lower(s[i]) {
			return false
		}
	}
	return true
}

// AppendLower appends s to dst with ASCII capital letters made small.
func AppendLower(dst, s []byte) []byte {
	for _, c := range s {
		dst = append(dst, Lower(c))
	}
	return dst
}
