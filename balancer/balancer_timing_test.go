package balancer

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
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
	b.Cleanup(func() { l.b.alog.Load().Close() })
	ctx := benchCtx(b)
	b.ReportAllocs()
	for b.Loop() {
		l.handle(ctx)
		ctx.Response.Reset()
	}
}

// BenchmarkHandleMetrics: the forward path with metrics on, alone and
// with the access log; compare with BenchmarkHandle and
// BenchmarkHandleAccessLog.
func BenchmarkHandleMetrics(b *testing.B) {
	for _, tt := range []struct {
		name string
		opts Options
	}{
		{"metrics", Options{Metrics: NewMetrics(prometheus.NewRegistry())}},
		{"metrics+accesslog", Options{Metrics: NewMetrics(prometheus.NewRegistry()), AccessLog: io.Discard}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			l := benchListener(b, tt.opts)
			if a := l.b.alog.Load(); a != nil {
				b.Cleanup(func() { a.Close() })
			}
			ctx := benchCtx(b)
			b.ReportAllocs()
			for b.Loop() {
				l.handle(ctx)
				ctx.Response.Reset()
			}
		})
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
		e.sized = false
		line = appendLogLine(line[:0], "app/albedo/0123456789abcdef", l, ctx, &e, now)
	}
}

// BenchmarkServeSmallPost: a whole request over loopback TCP, a keep-alive
// POST with a 200-byte body to a no-op forward: what the server settings
// (streamed bodies read by the handler, the connection wrapper, the
// hang-up check) cost end to end.
func BenchmarkServeSmallPost(b *testing.B) {
	groups := map[string]Forwarder{"g": nopForwarder{}}
	bal, err := New(listenerConfig(forwardTo("g")), groups, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := bal.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bal.Shutdown(context.Background()) })
	client := &fasthttp.HostClient{Addr: bal.Addrs()[0].String(), MaxConns: 1}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.Header.SetMethod("POST")
	req.SetRequestURI("http://" + client.Addr + "/api/x")
	req.Header.SetContentType("application/json")
	req.SetBody(bytes.Repeat([]byte("a"), 200))
	b.ReportAllocs()
	for b.Loop() {
		if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
			b.Fatalf("%v %d", err, resp.StatusCode())
		}
	}
}
