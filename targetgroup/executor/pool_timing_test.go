package executor

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
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
	p, _ := newTestPool(b, Options{FunctionLog: io.Discard}, noopFn(b, "noop"))
	return p
}

// isolations are the sub-benchmarks of the benchmarks that compare a
// cgroup per environment with process groups, and their CgroupName.
var isolations = []struct{ name, cgroup string }{{"cgroup", ""}, {"procgroup", noCgroups}}

// invokeLoop invokes req(i) for b.N invocations, one at a time, and
// reports their latencies and albedo's CPU per invocation.
func invokeLoop(b *testing.B, p *Pool, req func(i int) Request) {
	ctx := context.Background()
	lat := make([]time.Duration, 0, 1024)
	cpu0, t0 := cpuTime(), time.Now()
	for i := 0; b.Loop(); i++ {
		s := time.Now()
		resp, err := p.Invoke(ctx, req(i))
		if err != nil || resp.FunctionError != "" {
			b.Fatal(err, resp.FunctionError)
		}
		lat = append(lat, time.Since(s))
	}
	reportLatencies(b, lat, time.Since(t0), cpuTime()-cpu0)
}

func noopFn(b *testing.B, name string) Function {
	return Function{
		Name: name, ARN: "arn:aws:lambda:us-east-1:123456789012:function:" + name, Runtime: "provided.al2023",
		Code: exectest.Build(b, "noop"), MemorySize: 128, Timeout: 10 * time.Second, Reserved: -1, Region: "us-east-1",
	}
}

// BenchmarkColdStart measures invocations that each start a new execution
// environment of the noop function (two functions, one environment at a
// time: each invocation evicts the other's), in a cgroup and in process
// groups: what the cgroup adds to a cold start.
func BenchmarkColdStart(b *testing.B) {
	for _, iso := range isolations {
		b.Run(iso.name, func(b *testing.B) {
			opts := Options{FunctionLog: io.Discard, MaxConcurrency: 1, CgroupName: iso.cgroup}
			p, _ := newTestPool(b, opts, noopFn(b, "a"), noopFn(b, "b"))
			invokeLoop(b, p, func(i int) Request {
				return Request{Function: []string{"a", "b"}[i%2], Payload: noopEvent}
			})
			if s := p.Stats(); s.ColdStarts != s.Invocations {
				b.Fatalf("%d cold starts for %d invocations", s.ColdStarts, s.Invocations)
			}
		})
	}
}

var noopEvent = []byte(`{"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1"}},"httpMethod":"GET","path":"/","queryStringParameters":{},"headers":{"host":"example.com"},"body":"","isBase64Encoded":false}`)

// BenchmarkInvokeWarm measures warm invocations of the noop aws-lambda-go
// function through real processes, sequentially and with 32 concurrent
// callers (32 environments).
func BenchmarkInvokeWarm(b *testing.B) {
	for _, iso := range isolations {
		b.Run("sequential/"+iso.name, func(b *testing.B) {
			p, _ := newTestPool(b, Options{FunctionLog: io.Discard, CgroupName: iso.cgroup}, noopFn(b, "noop"))
			req := Request{Function: "noop", Payload: noopEvent}
			if _, err := p.Invoke(context.Background(), req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			invokeLoop(b, p, func(int) Request { return req })
		})
	}
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

// BenchmarkRuntimeAPIHopRaw is BenchmarkRuntimeAPIHop with a minimal
// client writing the bytes aws-lambda-go writes (chunked body, declared
// trailers), so that the figure is mostly albedo's side of the hop.
func BenchmarkRuntimeAPIHopRaw(b *testing.B) {
	e := newAPIEnv(b)
	addr := strings.TrimPrefix(serveAPI(b, e), "http://")
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	go func() { // a runtime loop: GET /next, POST /response
		br := bufio.NewReader(c)
		body := `{"statusCode":200,"body":"ok"}`
		chunk := strconv.FormatInt(int64(len(body)), 16) + "\r\n" + body + "\r\n0\r\n\r\n"
		buf := make([]byte, 0, 1024)
		for {
			if _, err := c.Write([]byte("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: aws-lambda-go/go1.26\r\n\r\n")); err != nil {
				return
			}
			id, n, err := readRawResponse(br)
			if err != nil {
				return
			}
			if _, err := br.Discard(n); err != nil {
				return
			}
			buf = append(buf[:0], "POST /2018-06-01/runtime/invocation/"...)
			buf = append(buf, id...)
			buf = append(buf, "/response HTTP/1.1\r\nHost: "+addr+"\r\nUser-Agent: aws-lambda-go/go1.26\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\nTrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\nAccept-Encoding: gzip\r\n\r\n"...)
			buf = append(buf, chunk...)
			if _, err := c.Write(buf); err != nil {
				return
			}
			if _, n, err = readRawResponse(br); err != nil {
				return
			}
			if _, err := br.Discard(n); err != nil {
				return
			}
		}
	}()
	b.ReportAllocs()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		inv := newInv(newRequestID(), string(noopEvent))
		offer(e, inv)
		<-inv.done
		n++
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n), "cpu-µs/hop")
}

// readRawResponse reads a response head and returns its request id and
// Content-Length.
func readRawResponse(br *bufio.Reader) (id string, n int, err error) {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return "", 0, err
		}
		s := strings.TrimRight(string(line), "\r\n")
		if s == "" {
			return id, n, nil
		}
		if v, ok := strings.CutPrefix(s, "Content-Length: "); ok {
			n, _ = strconv.Atoi(v)
		} else if v, ok := strings.CutPrefix(s, hdrRequestID+": "); ok {
			id = v
		}
	}
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
