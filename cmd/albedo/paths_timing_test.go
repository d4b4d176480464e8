package main

// These benchmarks compare the paths to one warm function: the pool
// directly, the Invoke API, an ALB listener and target group, and Event
// invocations into the durable queue. They live here because only cmd may
// combine the Lambda service with the target groups and the balancer.

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/balancer"
	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup"
	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/async"
	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
	"github.com/albedo-lb/albedo/targetgroup/executor/invokeapi"
)

const (
	benchRegion  = "us-east-1"
	benchAccount = "123456789012"
	benchPayload = `{"path":"/hello","httpMethod":"GET","headers":{"accept":"*/*"},"body":""}`
)

// benchPool is a Pool running testfunctions/noop.
func benchPool(b *testing.B) *executor.Pool {
	b.Helper()
	fn := executor.Function{Name: "noop", ARN: config.FunctionARN(benchRegion, benchAccount, "noop"),
		Runtime: "provided.al2023", Handler: "bootstrap", Code: exectest.Build(b, "noop"),
		MemorySize: 128, Timeout: 5 * time.Second, Reserved: -1, Region: benchRegion}
	pool, err := executor.New(executor.Options{MaxConcurrency: 4, Logger: slog.New(slog.DiscardHandler),
		FunctionLog: io.Discard}, []executor.Function{fn})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = pool.Close(ctx)
	})
	return pool
}

// benchPost sends POSTs (or GETs with an empty body) to url over one
// keep-alive connection and checks the status.
func benchPost(b *testing.B, url, body string, status int) {
	c := &fasthttp.HostClient{Addr: url[len("http://"):indexSlash(url)], MaxConns: 1}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	if body != "" {
		req.Header.SetMethod("POST")
		req.SetBodyString(body)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Do(req, resp); err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode() != status {
			b.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
		}
	}
}

func indexSlash(url string) int {
	for i := len("http://"); i < len(url); i++ {
		if url[i] == '/' {
			return i
		}
	}
	return len(url)
}

// BenchmarkRealPoolDirect: executor.Pool.Invoke of a warm noop function,
// the floor both paths below share.
func BenchmarkRealPoolDirect(b *testing.B) {
	pool := benchPool(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pool.Invoke(ctx, executor.Request{Function: "noop", Payload: []byte(benchPayload)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRealInvokeAPI: a synchronous Invoke through the API over
// loopback HTTP (one keep-alive connection).
func BenchmarkRealInvokeAPI(b *testing.B) {
	pool := benchPool(b)
	api, err := invokeapi.New(invokeapi.Options{Invoker: pool})
	if err != nil {
		b.Fatal(err)
	}
	addr := serveAPI(b, api)
	benchPost(b, "http://"+addr+"/2015-03-31/functions/noop/invocations", benchPayload, 200)
}

// BenchmarkRealListener: the same function behind an ALB listener and
// target group (GET /, event encoding, permission check, response decode).
func BenchmarkRealListener(b *testing.B) {
	pool := benchPool(b)
	const groupARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"
	one := 1
	cfg := &config.Config{
		Region: benchRegion, AccountID: benchAccount,
		Listeners: []config.Listener{{Address: "127.0.0.1", Protocol: "HTTP", DefaultAction: &config.Action{
			Forward: &config.Forward{TargetGroups: []config.WeightedGroup{{Name: "web", Weight: &one}}}}}},
		TargetGroups: []config.TargetGroup{{Name: "web", ARN: groupARN, Function: "noop"}},
		Functions: []config.Function{{Name: "noop", Policy: []config.Statement{{Sid: "alb", Principal: config.ELBPrincipal,
			Action: "lambda:InvokeFunction", SourceARN: groupARN}}}},
	}
	groups, err := targetgroup.New(cfg, targetgroup.Options{Invoker: pool})
	if err != nil {
		b.Fatal(err)
	}
	fwd := map[string]balancer.Forwarder{"web": groups["web"]}
	bl, err := balancer.New(cfg, fwd, balancer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := bl.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = bl.Shutdown(ctx)
	})
	benchPost(b, "http://"+bl.Addrs()[0].String()+"/", "", 200)
}

// BenchmarkRealEventAccept: Event invocations through the API into a real
// async.Queue (bbolt, fsync before the 202), from concurrent keep-alive
// connections (64); the dispatcher is not started: acceptance only.
func BenchmarkRealEventAccept(b *testing.B) {
	pool := benchPool(b)
	q, err := async.Open(async.Options{Dir: b.TempDir()}, pool)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Close(ctx)
	})
	api, err := invokeapi.New(invokeapi.Options{Invoker: pool, Queue: q})
	if err != nil {
		b.Fatal(err)
	}
	addr := serveAPI(b, api)
	c := &fasthttp.HostClient{Addr: addr, MaxConns: 64}
	b.ReportAllocs()
	b.SetParallelism(32) // x GOMAXPROCS concurrent clients, as in async.BenchmarkEnqueueParallel
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://" + addr + "/2015-03-31/functions/noop/invocations")
		req.Header.SetMethod("POST")
		req.Header.Set("X-Amz-Invocation-Type", "Event")
		req.SetBodyString(benchPayload)
		for pb.Next() {
			if err := c.Do(req, resp); err != nil {
				b.Error(err)
				return
			}
			if resp.StatusCode() != 202 {
				b.Errorf("status %d: %s", resp.StatusCode(), resp.Body())
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
