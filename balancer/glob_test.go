package balancer

import (
	"regexp"
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		fold    bool
		escapes bool
		subject string
		want    bool
	}{
		{name: "exact", pattern: "/api", subject: "/api", want: true},
		{name: "exact longer", pattern: "/api", subject: "/api/", want: false},
		{name: "exact case sensitive", pattern: "/API", subject: "/api", want: false},
		{name: "exact fold", pattern: "Example.COM", fold: true, subject: "example.com", want: true},
		{name: "star suffix", pattern: "/api/*", subject: "/api/v1/x", want: true},
		{name: "star empty", pattern: "/api/*", subject: "/api/", want: true},
		{name: "star needs slash", pattern: "/api/*", subject: "/api", want: false},
		{name: "star prefix whole string", pattern: "*.example.com", fold: true, subject: "example.com", want: false},
		{name: "star prefix", pattern: "*.example.com", fold: true, subject: "A.B.Example.com", want: true},
		{name: "question one byte", pattern: "/v?", subject: "/v1", want: true},
		{name: "question not zero", pattern: "/v?", subject: "/v", want: false},
		{name: "question not two", pattern: "/v?", subject: "/v12", want: false},
		{name: "backtrack", pattern: "*ab*ab", subject: "xabyabzab", want: true},
		{name: "backtrack fail", pattern: "*ab*abc", subject: "xabyabzab", want: false},
		{name: "only star", pattern: "*", subject: "", want: true},
		{name: "double star", pattern: "a**b", subject: "ab", want: true},
		{name: "empty pattern", pattern: "", subject: "", want: true},
		{name: "empty pattern non-empty subject", pattern: "", subject: "a", want: false},
		{name: "escaped star literal", pattern: `a\*b`, escapes: true, subject: "a*b", want: true},
		{name: "escaped star not wildcard", pattern: `a\*b`, escapes: true, subject: "axxb", want: false},
		{name: "escaped question", pattern: `a\?`, escapes: true, subject: "a?", want: true},
		{name: "backslash kept without escapes", pattern: `a\*b`, subject: `a\xxb`, want: true},
		{name: "lone backslash literal", pattern: `a\b`, escapes: true, subject: `a\b`, want: true},
		{name: "fold wildcard", pattern: "MOZ*", fold: true, subject: "mozilla/5.0", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := compileGlob(tt.pattern, tt.fold, tt.escapes)
			if got := g.match([]byte(tt.subject)); got != tt.want {
				t.Errorf("glob(%q).match(%q) = %v, want %v", tt.pattern, tt.subject, got, tt.want)
			}
		})
	}
}

// globRegexp is the reference implementation FuzzGlob compares against.
func globRegexp(pattern string, fold bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s)`)
	if fold {
		b.WriteString(`(?i)`)
	}
	for _, c := range pattern {
		switch c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// FuzzGlob checks the byte glob against a regexp built from the same
// pattern. Inputs are restricted to ASCII, where one byte is one character
// for both.
func FuzzGlob(f *testing.F) {
	seeds := []struct {
		pattern, subject string
		fold             bool
	}{
		{"/api/*", "/api/v1", false},
		{"*.example.com", "www.EXAMPLE.com", true},
		{"*ab*ab", "xabyabzab", false},
		{"a?c", "abc", false},
		{"", "", false},
		{"**?*", "x", true},
	}
	for _, s := range seeds {
		f.Add(s.pattern, s.subject, s.fold)
	}
	f.Fuzz(func(t *testing.T, pattern, subject string, fold bool) {
		if !isASCII(pattern) || !isASCII(subject) || len(pattern) > 256 || len(subject) > 1024 {
			t.Skip()
		}
		g := compileGlob(pattern, fold, false)
		got := g.match([]byte(subject))
		want := globRegexp(pattern, fold).MatchString(subject)
		if got != want {
			t.Fatalf("glob(%q, fold=%v).match(%q) = %v, regexp says %v", pattern, fold, subject, got, want)
		}
	})
}
