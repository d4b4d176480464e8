//go:build !race

package balancer

import (
	"io"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestZeroAllocs: parsing the request view and running every rule
// allocate nothing, nor does the full handler on the forward path.
func TestZeroAllocs(t *testing.T) {
	l := benchListener(t, Options{})
	ctx := benchCtx(t)
	tests := []struct {
		name string
		fn   func()
	}{
		{name: "match", fn: func() {
			var req request
			req.parse(ctx)
			if r := l.match(&req); r.priority != 10 {
				t.Fatalf("matched priority %d, want 10", r.priority)
			}
		}},
		{name: "handle forward", fn: func() {
			l.handle(ctx)
			ctx.Response.Reset()
		}},
	}
	line := make([]byte, 0, 4096)
	e := logEntry{rule: 10, action: "forward", groupARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/g/0123456789abcdef", targetStatus: 200}
	tests = append(tests, struct {
		name string
		fn   func()
	}{name: "access log line", fn: func() {
		e.sized = false
		line = appendLogLine(line[:0], "app/albedo/0123456789abcdef", l, ctx, &e, ctx.Time())
	}})
	logged := benchListener(t, Options{AccessLog: io.Discard})
	t.Cleanup(func() { logged.b.alog.Load().Close() })
	tests = append(tests, struct {
		name string
		fn   func()
	}{name: "handle forward with access log", fn: func() {
		logged.handle(ctx)
		ctx.Response.Reset()
	}})
	for _, o := range []struct {
		name string
		opts Options
	}{
		{"handle forward with metrics", Options{Metrics: NewMetrics(prometheus.NewRegistry())}},
		{"handle forward with metrics and access log", Options{Metrics: NewMetrics(prometheus.NewRegistry()), AccessLog: io.Discard}},
	} {
		ml := benchListener(t, o.opts)
		if a := ml.b.alog.Load(); a != nil {
			t.Cleanup(func() { a.Close() })
		}
		tests = append(tests, struct {
			name string
			fn   func()
		}{name: o.name, fn: func() {
			ml.handle(ctx)
			ctx.Response.Reset()
		}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn() // warm internal buffers
			if n := testing.AllocsPerRun(200, tt.fn); n != 0 {
				t.Errorf("%s: %.1f allocs per run, want 0", tt.name, n)
			}
		})
	}
}
