package policy

import (
	"testing"

	"github.com/albedo-lb/albedo/config"
)

func BenchmarkStatements(b *testing.B) {
	s, err := Open(b.TempDir(), testRegion, testAccount, storeFunctions(albStatement))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		if stmts, _ := s.Statements("web"); len(stmts) != 1 {
			b.Fatal("lost statement")
		}
	}
}

func BenchmarkAdd(b *testing.B) {
	s, err := Open(b.TempDir(), testRegion, testAccount, storeFunctions())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	st := config.Statement{Sid: "x", Principal: "s3.amazonaws.com", Action: "lambda:*"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Add("web", st, ""); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Remove("web", "x", ""); err != nil {
			b.Fatal(err)
		}
	}
}
