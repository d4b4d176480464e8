package executor

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// cpuTime is this process's user+system CPU time (albedo's side only: the
// function processes are children and not counted until reaped).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportLatencies adds invocations/s, p50, p99 and albedo CPU per
// invocation to b.
func reportLatencies(b *testing.B, lat []time.Duration, wall, cpu time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/wall.Seconds(), "inv/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(lat)), "cpu-µs/inv")
}

func noopPool(b *testing.B) *Pool {
	fn := Function{
		Name: "noop", ARN: "arn:aws:lambda:us-east-1:123456789012:function:noop", Runtime: "provided.al2023",
		Code: exectest.Build(b, "noop"), MemorySize: 128, Timeout: 10 * time.Second, Reserved: -1, Region: "us-east-1",
	}
	p, _ := newTestPool(b, Options{FunctionLog: io.Discard}, fn)
	return p
}

var noopEvent = []byte(`{"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1"}},"httpMethod":"GET","path":"/","queryStringParameters":{},"headers":{"host":"example.com"},"body":"","isBase64Encoded":false}`)

// BenchmarkInvokeWarm measures warm invocations of the noop aws-lambda-go
// function through real processes, sequentially and with 32 concurrent
// callers (32 environments).
func BenchmarkInvokeWarm(b *testing.B) {
	b.Run("sequential", func(b *testing.B) {
		p := noopPool(b)
		ctx := context.Background()
		req := Request{Function: "noop", Payload: noopEvent}
		if _, err := p.Invoke(ctx, req); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		lat := make([]time.Duration, 0, 1024)
		cpu0, t0 := cpuTime(), time.Now()
		for b.Loop() {
			s := time.Now()
			resp, err := p.Invoke(ctx, req)
			if err != nil || resp.FunctionError != "" {
				b.Fatal(err, resp.FunctionError)
			}
			lat = append(lat, time.Since(s))
		}
		reportLatencies(b, lat, time.Since(t0), cpuTime()-cpu0)
	})
	b.Run("concurrent32", func(b *testing.B) {
		const callers = 32
		p := noopPool(b)
		ctx := context.Background()
		req := Request{Function: "noop", Payload: noopEvent}
		// Warm 32 environments.
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() { p.Invoke(ctx, Request{Function: "noop", Payload: noopEvent}) })
		}
		wg.Wait()
		b.ReportAllocs()
		var mu sync.Mutex
		var lat []time.Duration
		cpu0, t0 := cpuTime(), time.Now()
		b.SetParallelism((callers + 1) / 2) // × GOMAXPROCS (2) goroutines
		b.RunParallel(func(pb *testing.PB) {
			local := make([]time.Duration, 0, 1024)
			for pb.Next() {
				s := time.Now()
				resp, err := p.Invoke(ctx, req)
				if err != nil || resp.FunctionError != "" {
					b.Error(err, resp.FunctionError)
					return
				}
				local = append(local, time.Since(s))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
		reportLatencies(b, lat, time.Since(t0), cpuTime()-cpu0)
		b.ReportMetric(float64(p.Stats().ColdStarts), "envs")
	})
}

// BenchmarkRuntimeAPIHop measures the Runtime API round trip alone: the
// hand-off to a parked /next, and a chunked /response with trailers as
// aws-lambda-go sends it, over loopback; the client is net/http in this
// process, so its CPU counts too.
func BenchmarkRuntimeAPIHop(b *testing.B) {
	e := newAPIEnv(b)
	base := serveAPI(b, e) + "/2018-06-01/runtime/invocation/"
	stop := make(chan struct{})
	go func() { // a runtime loop shaped like aws-lambda-go's
		client := &http.Client{Transport: &http.Transport{}}
		trailer := http.Header{"Lambda-Runtime-Function-Error-Type": nil, "Lambda-Runtime-Function-Error-Body": nil}
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := client.Get(base + "next")
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			id := resp.Header.Get(hdrRequestID)
			req, _ := http.NewRequest(http.MethodPost, base+id+"/response", chunked{strings.NewReader(`{"statusCode":200,"body":"ok"}`)})
			req.Trailer = trailer
			if resp, err = client.Do(req); err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		inv := newInv(newRequestID(), string(noopEvent))
		offer(e, inv)
		<-inv.done
	}
	close(stop)
}
