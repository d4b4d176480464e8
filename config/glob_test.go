package config_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

// globCases are the balancer's rule patterns (fold, escapes) and the
// policies' source ARN patterns (neither).
var globCases = []struct {
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
	{name: "exact case sensitive 2", pattern: "abc", subject: "ABC", want: false},
	{name: "exact fold", pattern: "Example.COM", fold: true, subject: "example.com", want: true},
	{name: "star suffix", pattern: "/api/*", subject: "/api/v1/x", want: true},
	{name: "star empty", pattern: "/api/*", subject: "/api/", want: true},
	{name: "star needs slash", pattern: "/api/*", subject: "/api", want: false},
	{name: "star prefix whole string", pattern: "*.example.com", fold: true, subject: "example.com", want: false},
	{name: "star prefix whole string no fold", pattern: "*.example.com", subject: "example.com", want: false},
	{name: "star prefix", pattern: "*.example.com", fold: true, subject: "A.B.Example.com", want: true},
	{name: "star prefix no fold", pattern: "*.example.com", subject: "a.example.com", want: true},
	{name: "question one byte", pattern: "/v?", subject: "/v1", want: true},
	{name: "question not zero", pattern: "/v?", subject: "/v", want: false},
	{name: "question not two", pattern: "/v?", subject: "/v12", want: false},
	{name: "lone question empty", pattern: "?", subject: "", want: false},
	{name: "lone question", pattern: "?", subject: "x", want: true},
	{name: "question middle", pattern: "a?c", subject: "abc", want: true},
	{name: "question middle not zero", pattern: "a?c", subject: "ac", want: false},
	{name: "star middle empty", pattern: "a*b", subject: "ab", want: true},
	{name: "star middle", pattern: "a*b", subject: "axxb", want: true},
	{name: "star middle trailing", pattern: "a*b", subject: "axxbc", want: false},
	{name: "two stars", pattern: "a*b*c", subject: "abxbc", want: true},
	{name: "backtrack", pattern: "*ab*ab", subject: "xabyabzab", want: true},
	{name: "backtrack fail", pattern: "*ab*abc", subject: "xabyabzab", want: false},
	{name: "backtrack three", pattern: "*x*y*z", subject: "xxyyzz", want: true},
	{name: "suffix star a", pattern: "*a", subject: "bab", want: false},
	{name: "suffix star a match", pattern: "*a", subject: "aba", want: true},
	{name: "only star", pattern: "*", subject: "", want: true},
	{name: "only star anything", pattern: "*", subject: "anything", want: true},
	{name: "double star", pattern: "a**b", subject: "ab", want: true},
	{name: "trailing double star", pattern: "a**", subject: "a", want: true},
	{name: "empty pattern", pattern: "", subject: "", want: true},
	{name: "empty pattern non-empty subject", pattern: "", subject: "a", want: false},
	{name: "star matches literal star", pattern: "literal*", subject: "literal*", want: true},
	{name: "escaped star literal", pattern: `a\*b`, escapes: true, subject: "a*b", want: true},
	{name: "escaped star not wildcard", pattern: `a\*b`, escapes: true, subject: "axxb", want: false},
	{name: "escaped question", pattern: `a\?`, escapes: true, subject: "a?", want: true},
	{name: "backslash kept without escapes", pattern: `a\*b`, subject: `a\xxb`, want: true},
	{name: "lone backslash literal", pattern: `a\b`, escapes: true, subject: `a\b`, want: true},
	{name: "fold wildcard", pattern: "MOZ*", fold: true, subject: "mozilla/5.0", want: true},
}

func compile(pattern string, fold, escapes bool) config.Glob {
	var mode config.GlobMode
	if fold {
		mode |= config.GlobFoldCase
	}
	if escapes {
		mode |= config.GlobEscapes
	}
	return config.CompileGlob(pattern, mode)
}

func TestGlob(t *testing.T) {
	t.Parallel()
	for _, tt := range globCases {
		t.Run(tt.name, func(t *testing.T) {
			g := compile(tt.pattern, tt.fold, tt.escapes)
			if got := g.Match([]byte(tt.subject)); got != tt.want {
				t.Errorf("Glob(%q).Match(%q) = %v, want %v", tt.pattern, tt.subject, got, tt.want)
			}
			if got := g.MatchString(tt.subject); got != tt.want {
				t.Errorf("Glob(%q).MatchString(%q) = %v, want %v", tt.pattern, tt.subject, got, tt.want)
			}
		})
	}
}

func TestZeroGlob(t *testing.T) {
	t.Parallel()
	var g config.Glob
	if !g.MatchString("") || g.MatchString("a") {
		t.Error("the zero Glob must match exactly the empty subject")
	}
}

// globRegexp is the reference FuzzGlob compares against: the pattern's
// bytes as a regexp, '*' as ".*" and '?' as ".", a literal otherwise.
func globRegexp(pattern string, fold, escapes bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s)`)
	if fold {
		b.WriteString(`(?i)`)
	}
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case escapes && c == '\\' && i+1 < len(pattern) && (pattern[i+1] == '*' || pattern[i+1] == '?'):
			i++
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		case c == '*':
			b.WriteString(`.*`)
		case c == '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
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

// FuzzGlob checks Glob, both Match and MatchString, against a regexp
// built from the same pattern. Inputs are restricted to ASCII, where one
// byte is one character for both.
func FuzzGlob(f *testing.F) {
	for _, tt := range globCases {
		f.Add(tt.pattern, tt.subject, tt.fold, tt.escapes)
	}
	f.Add("/api/*", "/api/v1", false, false)
	f.Add("a*b?c", "axxbyc", false, false)
	f.Add("**?*", "ab", false, false)
	f.Add(tgARN, tgARN, false, false)
	f.Add("*.example.com", "www.EXAMPLE.com", true, false)
	f.Add("**?*", "x", true, false)
	f.Add(`\\*`, `\x`, false, true)
	f.Add("arn:aws:elasticloadbalancing:*:123456789012:targetgroup/ap?/*", tgARN, false, false)
	f.Fuzz(func(t *testing.T, pattern, subject string, fold, escapes bool) {
		if !isASCII(pattern) || !isASCII(subject) || len(pattern) > 256 || len(subject) > 1024 {
			t.Skip()
		}
		g := compile(pattern, fold, escapes)
		want := globRegexp(pattern, fold, escapes).MatchString(subject)
		if got := g.Match([]byte(subject)); got != want {
			t.Fatalf("Glob(%q, fold=%v, escapes=%v).Match(%q) = %v, regexp says %v", pattern, fold, escapes, subject, got, want)
		}
		if got := g.MatchString(subject); got != want {
			t.Fatalf("Glob(%q, fold=%v, escapes=%v).MatchString(%q) = %v, regexp says %v", pattern, fold, escapes, subject, got, want)
		}
	})
}
