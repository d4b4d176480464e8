package config_test

import (
	"testing"

	"github.com/albedo-lb/albedo/config"
)

// BenchmarkGlob matches case-insensitive rule patterns, as the balancer
// does per request.
func BenchmarkGlob(b *testing.B) {
	cases := []struct{ pattern, subject string }{
		{"/api/v?/orders/*", "/api/v2/orders/12345/items"},
		{"*.example.com", "shop.eu-west-1.example.com"},
		{"*a*b*c*d", "xaxxbxxxcxxxxdxxxxxaxbxcxd"},
	}
	for _, c := range cases {
		b.Run(c.pattern, func(b *testing.B) {
			g := config.CompileGlob(c.pattern, config.GlobFoldCase)
			s := []byte(c.subject)
			b.ReportAllocs()
			for b.Loop() {
				g.Match(s)
			}
		})
	}
}
