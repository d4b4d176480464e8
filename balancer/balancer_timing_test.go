package balancer

import (
	"io"
	"testing"
)

func BenchmarkMatch(b *testing.B) {
	l := benchListener(b, Options{})
	ctx := benchCtx(b)
	b.ReportAllocs()
	for b.Loop() {
		var req request
		req.parse(ctx)
		if l.match(&req).priority != 10 {
			b.Fatal("wrong rule")
		}
	}
}

func BenchmarkHandle(b *testing.B) {
	l := benchListener(b, Options{})
	ctx := benchCtx(b)
	b.ReportAllocs()
	for b.Loop() {
		l.handle(ctx)
		ctx.Response.Reset()
	}
}

func BenchmarkHandleAccessLog(b *testing.B) {
	l := benchListener(b, Options{AccessLog: io.Discard})
	b.Cleanup(func() { l.b.alog.Close() })
	ctx := benchCtx(b)
	b.ReportAllocs()
	for b.Loop() {
		l.handle(ctx)
		ctx.Response.Reset()
	}
}

func BenchmarkAccessLogLine(b *testing.B) {
	l := benchListener(b, Options{})
	ctx := benchCtx(b)
	e := logEntry{rule: 10, action: "forward", groupARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/g/0123456789abcdef", targetStatus: 200}
	line := make([]byte, 0, 4096)
	now := ctx.Time()
	b.ReportAllocs()
	for b.Loop() {
		line = appendLogLine(line[:0], "app/albedo/0123456789abcdef", l, ctx, &e, now)
	}
}
