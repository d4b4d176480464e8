package targetgroup

import (
	"sync/atomic"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

// counterPolicies is a lock-free Policies whose revision a benchmark bumps
// as the policy API would on every change.
type counterPolicies struct {
	stmts []config.Statement
	rev   atomic.Uint64
}

func (p *counterPolicies) Statements(string) ([]config.Statement, uint64) {
	return p.stmts, p.rev.Load()
}

// BenchmarkPermitted measures the permission check of Group.Forward: with
// the policy unchanged (every request), after a change seen by one
// caller, and with concurrent callers racing on a change every 16 calls.
func BenchmarkPermitted(b *testing.B) {
	cfg := loadTestConfig(b)
	pol := &counterPolicies{stmts: []config.Statement{
		{Sid: "s3", Principal: "s3.amazonaws.com", Action: "lambda:InvokeFunction"},
		{Sid: "other", Principal: config.ELBPrincipal, Action: "lambda:InvokeFunction",
			SourceARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/*"},
		{Sid: "api", Principal: config.ELBPrincipal, Action: "lambda:InvokeFunction",
			SourceARN: "arn:aws:elasticloadbalancing:*:123456789012:targetgroup/api/*", SourceAccount: cfg.AccountID},
	}}
	groups, err := New(cfg, Options{Invoker: &fakeInvoker{}, Policies: pol})
	if err != nil {
		b.Fatal(err)
	}
	g := groups["api"]
	b.Run("unchanged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !g.permitted() {
				b.Fatal("denied")
			}
		}
	})
	b.Run("changed every call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pol.rev.Add(1)
			if !g.permitted() {
				b.Fatal("denied")
			}
		}
	})
	b.Run("parallel changed every 16 calls", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for n := 0; pb.Next(); n++ {
				if n%16 == 0 {
					pol.rev.Add(1)
				}
				if !g.permitted() {
					b.Error("denied")
					return
				}
			}
		})
	})
}
