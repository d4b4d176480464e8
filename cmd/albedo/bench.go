package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// runBench is `albedo bench`: the end-to-end benchmark. It starts `albedo
// serve` as a child process with one listener forwarding to the builtin
// `noop` function (a real aws-lambda-go function in its own execution
// environments), loads it on loopback with a fasthttp client at each
// concurrency for a fixed duration, then does the same against the ceiling:
// a plain fasthttp reverse proxy (child process) in front of a plain fasthttp
// server (another child) returning the same bytes. CPU and peak RSS are read
// from /proc for the proxy process only (albedo itself, or the plain proxy),
// not for the functions or the origin.
func runBench(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("bench", "albedo bench [-duration 10s] [-concurrency 1,64] [-cpu-model host|aws] [-memory-size MB]",
		"End-to-end benchmark on loopback: albedo serve (a child process) forwarding to the\n"+
			"builtin noop function, then a plain fasthttp reverse proxy as the ceiling.")
	duration := fs.Duration("duration", 10*time.Second, "load duration per phase")
	concs := fs.String("concurrency", "1,64", "comma-separated client concurrencies")
	var fn benchFunction
	fs.StringVar(&fn.cpuModel, "cpu-model", "host", "the noop function's cpu_model: host or aws (memory-size/1769 of a CPU)")
	fs.IntVar(&fn.memorySize, "memory-size", 128, "the noop function's memory_size in MB (128-10240)")
	if _, code, ok := fs.parse(args, 0, stdout, stderr); !ok {
		return code
	}
	var levels []int
	for _, s := range strings.Split(*concs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fs.fail(stderr, "bad concurrency %q", s)
		}
		levels = append(levels, n)
	}
	if fn.cpuModel != "host" && fn.cpuModel != "aws" {
		return fs.fail(stderr, "bad cpu model %q: host or aws", fn.cpuModel)
	}
	if fn.memorySize < 128 || fn.memorySize > 10240 {
		return fs.fail(stderr, "bad memory size %d: 128-10240", fn.memorySize)
	}
	if err := bench(stdout, *duration, levels, fn); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// benchResult is one row of the table.
type benchResult struct {
	target      string
	concurrency int
	requests    int
	errors      int
	rps         float64
	p50, p99    time.Duration
	p999        time.Duration
	cpuPer1k    float64 // CPU seconds of the proxy process per 1,000 requests
	peakRSS     int64   // bytes, VmHWM of the proxy process
}

// benchFunction is how the benchmark's noop function is configured.
type benchFunction struct {
	cpuModel   string
	memorySize int
}

func bench(w io.Writer, d time.Duration, levels []int, fn benchFunction) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "albedo-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintf(w, "albedo end-to-end benchmark: %s per phase, concurrency %v, %d CPUs, noop at %d MB, cpu_model %s\n",
		d, levels, runtime.NumCPU(), fn.memorySize, fn.cpuModel)
	var results []benchResult

	// albedo with the builtin noop function.
	port, err := freePort()
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "albedo.yaml")
	if err := os.WriteFile(cfgPath, []byte(benchConfig(port, filepath.Join(dir, "state"), levels, fn)), 0o644); err != nil {
		return err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	albedo, err := startChild(self, []string{"serve", "-config", cfgPath}, addr)
	if err != nil {
		return fmt.Errorf("start albedo: %w", err)
	}
	rs, err := loadPhases("albedo", addr, albedo.Process.Pid, d, levels)
	stopChild(albedo)
	if err != nil {
		return err
	}
	results = append(results, rs...)

	// The ceiling: plain fasthttp proxy -> plain fasthttp origin.
	originPort, err := freePort()
	if err != nil {
		return err
	}
	originAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(originPort))
	origin, err := startChild(self, []string{benchOriginSubcommand, originAddr}, originAddr)
	if err != nil {
		return fmt.Errorf("start origin: %w", err)
	}
	defer stopChild(origin)
	proxyPort, err := freePort()
	if err != nil {
		return err
	}
	proxyAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(proxyPort))
	proxy, err := startChild(self, []string{benchProxySubcommand, proxyAddr, originAddr}, proxyAddr)
	if err != nil {
		return fmt.Errorf("start proxy: %w", err)
	}
	rs, err = loadPhases("fasthttp proxy (ceiling)", proxyAddr, proxy.Process.Pid, d, levels)
	stopChild(proxy)
	if err != nil {
		return err
	}
	results = append(results, rs...)

	printBench(w, results)
	return nil
}

// benchConfig is albedo's config for the benchmark: one listener, the
// builtin noop function, no admin listener.
func benchConfig(port int, stateDir string, levels []int, fn benchFunction) string {
	envs := slices.Max(levels) + 16
	// The noop function needs a few MB whatever its memory_size: the
	// budget must not throttle the benchmark.
	return fmt.Sprintf(`# generated by albedo bench
max_concurrency: %d
memory_budget: %d
state_dir: %q
admin:
  address: ""
listeners:
  - port: %d
    address: 127.0.0.1
    default_action:
      forward:
        target_group: noop
target_groups:
  - name: noop
    targets: [noop]
functions:
  - name: noop
    runtime: builtin
    handler: noop
    timeout: 30
    memory_size: %d
    cpu_model: %s
    policy:
      - sid: alb
        principal: elasticloadbalancing.amazonaws.com
        action: lambda:InvokeFunction
`, envs, envs*fn.memorySize, stateDir, port, fn.memorySize, fn.cpuModel)
}

// loadPhases warms the target up, then runs one phase per concurrency.
func loadPhases(target, addr string, pid int, d time.Duration, levels []int) ([]benchResult, error) {
	// Warm-up: enough concurrent requests to start every environment the
	// largest phase needs.
	warm := slices.Max(levels)
	if _, err := load(addr, warm, 2*time.Second); err != nil {
		return nil, fmt.Errorf("%s warm-up: %w", target, err)
	}
	var out []benchResult
	for _, c := range levels {
		cpu0, err := procCPU(pid)
		if err != nil {
			return nil, err
		}
		r, err := load(addr, c, d)
		if err != nil {
			return nil, fmt.Errorf("%s at %d: %w", target, c, err)
		}
		cpu1, err := procCPU(pid)
		if err != nil {
			return nil, err
		}
		r.target = target
		if r.requests > 0 {
			r.cpuPer1k = (cpu1 - cpu0) / float64(r.requests) * 1000
		}
		r.peakRSS, _ = procPeakRSS(pid)
		out = append(out, r)
	}
	return out, nil
}

// load sends GET / on c connections for d and measures each request.
func load(addr string, c int, d time.Duration) (benchResult, error) {
	client := &fasthttp.HostClient{Addr: addr, MaxConns: c, ReadTimeout: 30 * time.Second, WriteTimeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	lat := make([][]time.Duration, c)
	errs := make([]int, c)
	var firstErr error
	var mu sync.Mutex
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range c {
		wg.Go(func() {
			req := fasthttp.AcquireRequest()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI("http://" + addr + "/")
			samples := make([]time.Duration, 0, 1<<16)
			for time.Now().Before(deadline) {
				t := time.Now()
				err := client.Do(req, resp)
				el := time.Since(t)
				if err == nil && resp.StatusCode() != 200 {
					err = fmt.Errorf("status %d: %.200s", resp.StatusCode(), resp.Body())
				}
				if err != nil {
					errs[i]++
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				samples = append(samples, el)
			}
			lat[i] = samples
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := benchResult{concurrency: c, requests: len(all)}
	for _, e := range errs {
		r.errors += e
	}
	if len(all) == 0 {
		if firstErr == nil {
			firstErr = errors.New("no request completed")
		}
		return r, firstErr
	}
	r.rps = float64(len(all)) / elapsed.Seconds()
	r.p50 = percentile(all, 0.50)
	r.p99 = percentile(all, 0.99)
	r.p999 = percentile(all, 0.999)
	return r, nil
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(float64(len(sorted)-1) * q)
	return sorted[i]
}

func printBench(w io.Writer, rs []benchResult) {
	fmt.Fprintf(w, "\n| target | concurrency | requests/s | p50 | p99 | p99.9 | CPU s / 1k req | peak RSS | errors |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %s | %.3f | %.1f MiB | %d |\n",
			r.target, r.concurrency, r.rps, fmtDur(r.p50), fmtDur(r.p99), fmtDur(r.p999),
			r.cpuPer1k, float64(r.peakRSS)/(1<<20), r.errors)
	}
	for _, a := range rs {
		if a.target != "albedo" {
			continue
		}
		for _, c := range rs {
			if c.target != "albedo" && c.concurrency == a.concurrency && c.rps > 0 {
				fmt.Fprintf(w, "\nalbedo at concurrency %d: %.0f%% of the ceiling's throughput\n", a.concurrency, 100*a.rps/c.rps)
			}
		}
	}
}

func fmtDur(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + " ms"
}

// startChild starts self with args and waits until addr accepts connections.
func startChild(self string, args []string, addr string) (*exec.Cmd, error) {
	cmd := exec.Command(self, args...)
	cmd.Stdout = io.Discard
	cmd.Stderr = io.Discard
	if os.Getenv("ALBEDO_BENCH_VERBOSE") != "" {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return cmd, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopChild(cmd)
	return nil, fmt.Errorf("%s did not listen on %s within 60s", args[0], addr)
}

// stopChild asks the child to stop (SIGTERM), then kills it after 10 s.
func stopChild(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Hidden subcommands used by bench for the ceiling measurement.
const (
	benchOriginSubcommand = "__bench-origin"
	benchProxySubcommand  = "__bench-proxy"
)

// noopBody is what the noop function answers; the origin answers the same.
const noopBody = "ok"

// runBenchOrigin serves the noop response's bytes on addr.
func runBenchOrigin(args []string) int {
	if len(args) != 1 {
		return 2
	}
	s := &fasthttp.Server{Name: "origin", Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/plain")
		ctx.SetBodyString(noopBody)
	}}
	return serveUntilSignal(s, args[0])
}

// runBenchProxy is a plain fasthttp reverse proxy from args[0] to args[1].
func runBenchProxy(args []string) int {
	if len(args) != 2 {
		return 2
	}
	up := &fasthttp.HostClient{Addr: args[1], MaxConns: 1024}
	s := &fasthttp.Server{Name: "proxy", Handler: func(ctx *fasthttp.RequestCtx) {
		if err := up.Do(&ctx.Request, &ctx.Response); err != nil {
			ctx.Error(err.Error(), fasthttp.StatusBadGateway)
		}
	}}
	return serveUntilSignal(s, args[0])
}

func serveUntilSignal(s *fasthttp.Server, addr string) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signalContext()
	defer stop()
	go func() { <-ctx.Done(); _ = s.Shutdown() }()
	if err := s.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
