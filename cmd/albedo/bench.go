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

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// runBench is `albedo bench`: the end-to-end benchmark. For each runtime
// it starts `albedo serve` as a child process with one listener forwarding
// to the same trivial ALB function (200 "ok"): the builtin `noop` (a real
// aws-lambda-go function) for go, handler.js on the machine's node for
// node, app.py on its python3 for python, each in its own execution
// environments. It measures cold starts (the first request to a new
// environment, end to end), then loads albedo on loopback with a fasthttp
// client at each concurrency for a fixed duration; then the same against
// the ceiling: a plain fasthttp reverse proxy (child process) in front of a
// plain fasthttp server (another child) returning the same bytes. CPU and
// peak RSS are read from /proc for the proxy process only (albedo itself,
// or the plain proxy), not for the functions or the origin.
func runBench(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("bench", "albedo bench [-duration 10s] [-concurrency 1,64] [-runtime go,node,python] [-cold 5] [-ceiling=false] [-remote] [-access-log] [-cpu-model host|aws] [-memory-size MB]",
		"End-to-end benchmark on loopback: albedo serve (a child process) forwarding to the\n"+
			"same trivial function in each runtime, then a plain fasthttp reverse proxy as the ceiling.")
	duration := fs.Duration("duration", 10*time.Second, "load duration per phase")
	concs := fs.String("concurrency", "1,64", "comma-separated client concurrencies")
	runtimes := fs.String("runtime", "go", "comma-separated function runtimes: go, node, python")
	colds := fs.Int("cold", 5, "cold starts to measure per runtime (0 = none)")
	ceiling := fs.Bool("ceiling", true, "also measure the plain fasthttp proxy")
	withRemote := fs.Bool("remote", false, "also measure a remote function: albedo forwarding to noop in a second albedo, through its SigV4-authenticated Invoke API")
	withAccessLog := fs.Bool("access-log", false, "also measure each runtime with albedo writing its access log (to a file), right after the run without")
	var sz benchSizing
	fs.StringVar(&sz.cpuModel, "cpu-model", "host", "the function's cpu_model: host or aws (memory-size/1769 of a CPU)")
	fs.IntVar(&sz.memorySize, "memory-size", 128, "the function's memory_size in MB (128-10240)")
	if _, code, ok := fs.parse(args, 0, stdout, stderr); !ok {
		return code
	}
	var kinds []string
	for _, r := range strings.Split(*runtimes, ",") {
		r = strings.TrimSpace(r)
		if _, ok := benchHandlers[r]; !ok {
			return fs.fail(stderr, "unknown runtime %q (go, node, python)", r)
		}
		kinds = append(kinds, r)
	}
	var levels []int
	for _, s := range strings.Split(*concs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fs.fail(stderr, "bad concurrency %q", s)
		}
		levels = append(levels, n)
	}
	if sz.cpuModel != "host" && sz.cpuModel != "aws" {
		return fs.fail(stderr, "bad cpu model %q: host or aws", sz.cpuModel)
	}
	if sz.memorySize < 128 || sz.memorySize > 10240 {
		return fs.fail(stderr, "bad memory size %d: 128-10240", sz.memorySize)
	}
	plan := benchPlan{d: *duration, levels: levels, runtimes: kinds, colds: *colds, ceiling: *ceiling, remote: *withRemote, accessLog: *withAccessLog, sizing: sz}
	if err := bench(stdout, plan); err != nil {
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
	// otherCPUPer1k is the same for the processes behind the proxy that
	// bench measures too (the remote albedo), -1 when none.
	otherCPUPer1k float64
	peakRSS       int64 // bytes, VmHWM of the proxy process
}

// benchPlan is what one `albedo bench` run measures.
type benchPlan struct {
	d        time.Duration
	levels   []int
	runtimes []string // go, node, python
	colds    int
	ceiling  bool
	remote   bool // also a function behind a second albedo's Invoke API
	// accessLog also runs each runtime's phases with the access log on.
	accessLog bool
	sizing    benchSizing // the function's memory_size and cpu_model
}

// benchSizing is how the benchmark's function is sized.
type benchSizing struct {
	cpuModel   string
	memorySize int
}

// lines are the function's memory_size and cpu_model lines of a config.
func (sz benchSizing) lines() string {
	return fmt.Sprintf("    memory_size: %d\n    cpu_model: %s\n", sz.memorySize, sz.cpuModel)
}

// bench runs plan and prints its tables on w: for each runtime its cold
// starts and its load phases (albedo serve as a child process), then the
// remote function, then the ceiling.
func bench(w io.Writer, plan benchPlan) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "albedo-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintf(w, "albedo end-to-end benchmark: %s per phase, concurrency %v, runtimes %v, %d CPUs, function at %d MB, cpu_model %s\n",
		plan.d, plan.levels, plan.runtimes, runtime.NumCPU(), plan.sizing.memorySize, plan.sizing.cpuModel)
	var results []benchResult
	var colds []coldResult
	for _, kind := range plan.runtimes {
		rs, c, err := benchRuntime(self, dir, plan, kind)
		if err != nil {
			return err
		}
		results = append(results, rs...)
		colds = append(colds, c...)
	}
	if plan.remote {
		rs, err := benchRemote(self, dir, plan.d, plan.levels)
		if err != nil {
			return err
		}
		results = append(results, rs...)
	}
	printCold(w, colds)
	if plan.ceiling {
		rs, err := benchCeiling(self, plan.d, plan.levels)
		if err != nil {
			return err
		}
		results = append(results, rs...)
	}
	printBench(w, results)
	return nil
}

// benchRuntime measures the function of one runtime (kind): its cold
// starts when the plan asks for them, then albedo serve forwarding to it
// under load, again with the access log on when the plan asks for that.
func benchRuntime(self, dir string, plan benchPlan, kind string) ([]benchResult, []coldResult, error) {
	fn, err := benchFunction(dir, kind)
	if err != nil {
		return nil, nil, err
	}
	fn += plan.sizing.lines()
	target := "albedo (" + kind + ")"
	var colds []coldResult
	if plan.colds > 0 {
		c, err := coldStarts(self, dir, fn, plan.colds)
		if err != nil {
			return nil, nil, fmt.Errorf("%s cold starts: %w", target, err)
		}
		c.target = target
		colds = append(colds, c)
	}
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	cfgPath := filepath.Join(dir, kind+".yaml")
	if err := os.WriteFile(cfgPath, []byte(benchConfig(port, filepath.Join(dir, "state-"+kind), slices.Max(plan.levels)+16, "5m", fn)), 0o644); err != nil {
		return nil, nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	variants := [][]string{nil}
	if plan.accessLog {
		variants = append(variants, []string{"-access-log", filepath.Join(dir, kind+"-access.log")})
	}
	var results []benchResult
	for _, extra := range variants {
		albedo, err := startChild(self, append([]string{"serve", "-config", cfgPath}, extra...), addr)
		if err != nil {
			return nil, nil, fmt.Errorf("start albedo: %w", err)
		}
		name := target
		if extra != nil {
			name += " + access log"
		}
		rs, err := loadPhases(name, addr, albedo.Process.Pid, plan.d, plan.levels)
		stopChild(albedo)
		if err != nil {
			return nil, nil, err
		}
		results = append(results, rs...)
	}
	return results, colds, nil
}

// benchCeiling measures the ceiling: a plain fasthttp proxy in front of a
// plain fasthttp origin returning the same bytes, each a child process.
func benchCeiling(self string, d time.Duration, levels []int) ([]benchResult, error) {
	originPort, err := freePort()
	if err != nil {
		return nil, err
	}
	originAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(originPort))
	origin, err := startChild(self, []string{benchOriginSubcommand, originAddr}, originAddr)
	if err != nil {
		return nil, fmt.Errorf("start origin: %w", err)
	}
	defer stopChild(origin)
	proxyPort, err := freePort()
	if err != nil {
		return nil, err
	}
	proxyAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(proxyPort))
	proxy, err := startChild(self, []string{benchProxySubcommand, proxyAddr, originAddr}, proxyAddr)
	if err != nil {
		return nil, fmt.Errorf("start proxy: %w", err)
	}
	defer stopChild(proxy)
	return loadPhases("fasthttp proxy (ceiling)", proxyAddr, proxy.Process.Pid, d, levels)
}

// benchConfig is albedo's config for the benchmark: one listener, the
// function fn (its runtime, handler and code lines), no admin listener.
func benchConfig(port int, stateDir string, maxConcurrency int, idle, fn string) string {
	// The budget must never throttle the benchmark, whatever the
	// function's memory_size (albedo's default is the machine's RAM).
	return fmt.Sprintf(`# generated by albedo bench
max_concurrency: %d
memory_budget: %d
idle_timeout: %s
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
%s    timeout: 30
    policy:
      - sid: alb
        principal: elasticloadbalancing.amazonaws.com
        action: lambda:InvokeFunction
`, maxConcurrency, maxConcurrency*10240, idle, stateDir, port, fn)
}

// loadPhases warms the target up, then runs one phase per concurrency.
// The CPU of others (processes behind the proxy) is reported apart.
func loadPhases(target, addr string, pid int, d time.Duration, levels []int, others ...int) ([]benchResult, error) {
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
		other0, err := procsCPU(others)
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
		other1, err := procsCPU(others)
		if err != nil {
			return nil, err
		}
		r.target = target
		r.otherCPUPer1k = -1
		if r.requests > 0 {
			r.cpuPer1k = (cpu1 - cpu0) / float64(r.requests) * 1000
			if len(others) > 0 {
				r.otherCPUPer1k = (other1 - other0) / float64(r.requests) * 1000
			}
		}
		r.peakRSS, _ = executor.PeakRSS(pid)
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
	printRemoteBench(w, rs)
	for _, a := range rs {
		if !strings.HasPrefix(a.target, "albedo") {
			continue
		}
		for _, c := range rs {
			if !strings.HasPrefix(c.target, "albedo") && c.concurrency == a.concurrency && c.rps > 0 {
				fmt.Fprintf(w, "\n%s at concurrency %d: %.0f%% of the ceiling's throughput\n", a.target, a.concurrency, 100*a.rps/c.rps)
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
