package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Defaults of Options.
const (
	DefaultMaxConcurrency = 1000
	DefaultIdleTimeout    = 5 * time.Minute
	DefaultInitTimeout    = 10 * time.Second
	DefaultMemorySize     = 128 // MB
	DefaultTimeout        = 3 * time.Second
	// ShutdownGrace is how long an environment with a registered extension
	// has between SIGTERM and SIGKILL (Lambda's shutdown phase cap).
	ShutdownGrace = 2 * time.Second
)

// sampleInterval is how often the peak RSS of live environments is read.
const sampleInterval = 100 * time.Millisecond

// function is a Function plus its scheduling state.
type function struct {
	cfg  Function
	argv []string
	dir  string
	env  map[string]string

	build buildState

	// guarded by Pool.mu
	idle []*env // most recently used last
	live int    // starting, busy and idle environments
}

// Pool runs the execution environments of a set of functions. All methods
// are safe for concurrent use.
type Pool struct {
	opts  Options
	log   *slog.Logger
	flog  *lineWriter
	fns   map[string]*function
	names []string

	iso isolation

	mu      sync.Mutex
	closed  bool
	live    int
	memUsed int
	idleLRU *simplelru.LRU[*env, struct{}]
	all     map[*env]struct{}

	inflight sync.WaitGroup // Invoke calls and abandoned invocations
	envs     sync.WaitGroup // environment supervisors
	bg       sync.WaitGroup // reaper and sampler
	done     chan struct{}
	nextID   atomic.Uint64

	stats counters
}

// New validates opts and fns and returns a Pool. No process starts until the
// first invocation (or Prepare, for build commands).
func New(opts Options, fns []Function) (*Pool, error) {
	var errs []error
	if opts.MaxConcurrency < 0 {
		errs = append(errs, errors.New("executor: max concurrency must not be negative"))
	}
	if opts.IdleTimeout < 0 || opts.InitTimeout < 0 || opts.MemoryBudget < 0 {
		errs = append(errs, errors.New("executor: idle timeout, init timeout and memory budget must not be negative"))
	}
	if n := opts.CgroupName; n == "." || n == ".." || strings.ContainsAny(n, "/\x00") {
		errs = append(errs, fmt.Errorf("executor: cgroup name %q is not a single path element", n))
	}
	if opts.MaxConcurrency == 0 {
		opts.MaxConcurrency = DefaultMaxConcurrency
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.InitTimeout == 0 {
		opts.InitTimeout = DefaultInitTimeout
	}
	if opts.MemoryBudget == 0 {
		opts.MemoryBudget = machineMemoryMB()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.FunctionLog == nil {
		opts.FunctionLog = os.Stderr
	}
	cwd, _ := os.Getwd()
	p := &Pool{
		opts: opts,
		log:  opts.Logger.With("component", "executor"),
		flog: &lineWriter{w: opts.FunctionLog, prefix: opts.PrefixFunctionLog},
		fns:  make(map[string]*function, len(fns)),
		all:  make(map[*env]struct{}),
		done: make(chan struct{}),
	}
	path := hostPath()
	for i, f := range fns {
		fn, err := compile(f, opts, cwd, path)
		if err != nil {
			errs = append(errs, fmt.Errorf("functions[%d]: %w", i, err))
			continue
		}
		if _, dup := p.fns[f.Name]; dup {
			errs = append(errs, fmt.Errorf("functions[%d]: executor: duplicate function name %q", i, f.Name))
			continue
		}
		p.fns[f.Name] = fn
		p.names = append(p.names, f.Name)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.Sort(p.names)
	lru, err := simplelru.NewLRU[*env, struct{}](opts.MaxConcurrency, nil)
	if err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	p.idleLRU = lru
	var aws []string
	for _, n := range p.names {
		if p.fns[n].cfg.CPUModel == CPUModelAWS {
			aws = append(aws, n)
		}
	}
	p.iso = newIsolation(opts.CgroupName, len(aws) > 0, p.log)
	for _, n := range aws {
		if !p.iso.limitsCPU() {
			p.log.Warn("cpu_model aws cannot be honoured: the function gets the host's CPU", "function", n, "isolation", p.iso.String())
		}
	}
	p.bg.Add(1)
	go p.reapLoop()
	if !p.iso.limitsMemory() { // else the kernel enforces memory_size
		p.bg.Add(1)
		go p.sampleLoop()
	}
	return p, nil
}

// compile validates f and precomputes how its environments start.
func compile(f Function, opts Options, cwd, path string) (*function, error) {
	if f.Name == "" {
		return nil, errors.New("executor: function name is empty")
	}
	if f.MemorySize == 0 {
		f.MemorySize = DefaultMemorySize
	}
	if f.Timeout == 0 {
		f.Timeout = DefaultTimeout
	}
	if f.MemorySize < 0 || f.Timeout < 0 || f.Reserved < -1 {
		return nil, fmt.Errorf("executor: function %s: negative memory size, timeout or reserved concurrency", f.Name)
	}
	switch f.CPUModel {
	case "":
		f.CPUModel = CPUModelHost
	case CPUModelHost, CPUModelAWS:
	default:
		return nil, fmt.Errorf("executor: function %s: cpu model must be %s or %s, got %q", f.Name, CPUModelHost, CPUModelAWS, f.CPUModel)
	}
	fn := &function{cfg: f}
	switch f.Runtime {
	case "provided.al2023", "provided.al2", "provided", "":
		if f.Handler == "" {
			f.Handler = "bootstrap"
			fn.cfg.Handler = f.Handler
		}
		if !filepath.IsAbs(f.Code) {
			return nil, fmt.Errorf("executor: function %s: code must be an absolute directory, got %q", f.Name, f.Code)
		}
		fn.dir = f.Code
		fn.argv = []string{filepath.Join(f.Code, f.Handler)}
	case "builtin":
		if len(opts.BuiltinCommand) == 0 {
			return nil, fmt.Errorf("executor: function %s: runtime builtin needs Options.BuiltinCommand", f.Name)
		}
		fn.dir = f.Code
		if fn.dir == "" {
			fn.dir = cwd
		}
		fn.argv = append(slices.Clone(opts.BuiltinCommand), f.Handler)
	default:
		return nil, fmt.Errorf("executor: function %s: unsupported runtime %q", f.Name, f.Runtime)
	}
	fn.env = baseEnv(&fn.cfg, f.Handler, fn.dir, path)
	return fn, nil
}

// Function returns the named function's configuration.
func (p *Pool) Function(name string) (Function, bool) {
	fn, ok := p.fns[name]
	if !ok {
		return Function{}, false
	}
	return cloneFunction(fn.cfg), true
}

// Functions returns every function, sorted by name.
func (p *Pool) Functions() []Function {
	out := make([]Function, 0, len(p.names))
	for _, n := range p.names {
		out = append(out, cloneFunction(p.fns[n].cfg))
	}
	return out
}

func cloneFunction(f Function) Function {
	f.Build = slices.Clone(f.Build)
	f.Environment = maps.Clone(f.Environment)
	return f
}

// Close stops the Pool: new invocations fail with ErrClosed, idle
// environments stop at once, in-flight invocations may finish until ctx is
// done, then every environment is stopped (SIGTERM first and SIGKILL after
// ShutdownGrace when an extension registered, SIGKILL otherwise) and reaped.
// It returns ctx.Err() when in-flight invocations were cut short.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.envs.Wait()
		return nil
	}
	p.closed = true
	idle := p.takeAllIdleLocked()
	p.mu.Unlock()
	close(p.done)
	for _, e := range idle {
		go e.stop(reasonShutdown)
	}

	var err error
	waited := make(chan struct{})
	go func() { p.inflight.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		err = ctx.Err()
	}

	p.mu.Lock()
	rest := make([]*env, 0, len(p.all))
	for e := range p.all {
		rest = append(rest, e)
	}
	p.mu.Unlock()
	for _, e := range rest {
		go e.stop(reasonShutdown)
	}
	p.envs.Wait()
	p.bg.Wait()
	if cerr := p.iso.close(); cerr != nil {
		p.log.Warn("cannot remove the environments' parent cgroup", "err", cerr)
	}
	return err
}

// Isolation describes how environments are isolated, for albedo's start-up
// line: "cgroup v1 (memory, cpu, freezer)", "cgroup v2 (memory, cpu)", or
// "process groups (<why not cgroups>)". With process groups, memory_size is
// enforced by sampling and cpu_model aws is not honoured.
func (p *Pool) Isolation() string { return p.iso.String() }

// takeAllIdleLocked empties every idle list. p.mu must be held.
func (p *Pool) takeAllIdleLocked() []*env {
	var out []*env
	for _, fn := range p.fns {
		out = append(out, fn.idle...)
		clear(fn.idle)
		fn.idle = fn.idle[:0]
	}
	p.idleLRU.Purge()
	return out
}

// counters are the Pool's atomic statistics.
type counters struct {
	invocations, coldStarts, throttles, timeouts, crashes, outOfMemory,
	initFailures, functionErrors atomic.Int64
}

// Stats is a snapshot of a Pool's counters.
type Stats struct {
	Invocations    int64 // invocations that reached an environment
	ColdStarts     int64 // environments started
	Throttles      int64 // invocations refused with a ThrottleError
	Timeouts       int64 // invocations that hit the function timeout
	Crashes        int64 // runtimes that exited during an invocation
	OutOfMemory    int64 // environments killed above their memory size
	InitFailures   int64 // failed inits (init error, exit or timeout)
	FunctionErrors int64 // invocations answered through /error
	Live           int   // environments alive now (starting, busy or idle; not evicted ones stopping)
	Idle           int   // idle environments now
	MemoryUsed     int   // MB: sum of memory sizes of live environments
}

// Stats returns the current counters.
func (p *Pool) Stats() Stats {
	s := Stats{
		Invocations:    p.stats.invocations.Load(),
		ColdStarts:     p.stats.coldStarts.Load(),
		Throttles:      p.stats.throttles.Load(),
		Timeouts:       p.stats.timeouts.Load(),
		Crashes:        p.stats.crashes.Load(),
		OutOfMemory:    p.stats.outOfMemory.Load(),
		InitFailures:   p.stats.initFailures.Load(),
		FunctionErrors: p.stats.functionErrors.Load(),
	}
	p.mu.Lock()
	s.Live = p.live
	s.Idle = p.idleLRU.Len()
	s.MemoryUsed = p.memUsed
	p.mu.Unlock()
	return s
}
