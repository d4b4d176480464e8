//go:build !race

package config_test

import (
	"testing"

	"github.com/albedo-lb/albedo/config"
)

// TestGlobZeroAllocs: a compiled Glob matches []byte and string subjects
// without allocating.
func TestGlobZeroAllocs(t *testing.T) {
	g := config.CompileGlob("*a*b*c*d", config.GlobFoldCase)
	b, s := []byte("xaxxbxxxcxxxxdxxxxxaxbxcxd"), "XAXXBXXXCXXXXD"
	if n := testing.AllocsPerRun(200, func() {
		if !g.Match(b) || !g.MatchString(s) {
			t.Fatal("no match")
		}
	}); n != 0 {
		t.Errorf("%v allocs per match, want 0", n)
	}
}
