//go:build !race

package policy

import "testing"

// TestStatementsAllocs: the balancer's per-request policy read is free.
func TestStatementsAllocs(t *testing.T) {
	s := mustOpen(t, t.TempDir(), storeFunctions(albStatement))
	defer s.Close()
	if n := testing.AllocsPerRun(1000, func() { s.Statements("web") }); n != 0 {
		t.Errorf("%v allocs", n)
	}
}
