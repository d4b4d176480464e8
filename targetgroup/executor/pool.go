package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
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
	spec runtimeSpec
	argv []string
	dir  string
	env  map[string]string

	build buildState
	m     *fnMetrics // nil without Options.Metrics

	// guarded by Pool.mu
	idle    []*env // most recently used last
	live    int    // starting, busy and idle environments
	retired bool   // replaced or removed by an Update: its environments stop when their invocation ends
}

// Pool runs the execution environments of a set of functions. All methods
// are safe for concurrent use.
type Pool struct {
	opts Options
	log  *slog.Logger
	flog *lineWriter
	set  atomic.Pointer[functionSet] // the functions; an Update replaces it (update.go)

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
	if n := opts.CgroupName; n != "" {
		if err := checkCgroupName(n); err != nil {
			errs = append(errs, err)
		}
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
		flog: &lineWriter{w: opts.FunctionLog, prefix: opts.PrefixFunctionLog, rec: opts.FunctionRecords},
		all:  make(map[*env]struct{}),
		done: make(chan struct{}),
	}
	set, err := compileSet(&compileEnv{opts: opts, cwd: cwd, path: hostPath(), libs: os.Getenv("LD_LIBRARY_PATH"), log: p.log}, fns)
	if err := errors.Join(append(errs, err)...); err != nil {
		return nil, err
	}
	p.set.Store(set)
	lru, err := simplelru.NewLRU[*env, struct{}](opts.MaxConcurrency, nil)
	if err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	p.idleLRU = lru
	p.iso = newIsolation(opts.CgroupName, len(set.awsCPU()) > 0, p.log)
	p.warnCPU(set)
	opts.Metrics.attach(p)
	p.bg.Add(1)
	go p.reapLoop()
	if !p.iso.limitsMemory() { // else the kernel enforces memory_size
		p.bg.Add(1)
		go p.sampleLoop()
	}
	return p, nil
}

// Function returns the named function's configuration.
func (p *Pool) Function(name string) (Function, bool) {
	fn, ok := p.set.Load().byName[name]
	if !ok {
		return Function{}, false
	}
	return cloneFunction(fn.cfg), true
}

// Functions returns every function, sorted by name.
func (p *Pool) Functions() []Function {
	set := p.set.Load()
	out := make([]Function, 0, len(set.names))
	for _, n := range set.names {
		out = append(out, cloneFunction(set.byName[n].cfg))
	}
	return out
}

func cloneFunction(f Function) Function {
	f.Build = slices.Clone(f.Build)
	f.Layers = slices.Clone(f.Layers)
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
	p.opts.Metrics.detach(p)
	if cerr := p.iso.close(); cerr != nil {
		p.log.Warn("cannot remove the environments' parent cgroup", "err", cerr)
	}
	return err
}

// Isolation describes how environments are isolated, for albedo's start-up
// line: "cgroup v1 (memory, cpu, freezer, pids)", "cgroup v2 (memory, cpu, pids)", or
// "process groups (<why not cgroups>)". With process groups, memory_size is
// enforced by sampling and cpu_model aws is not honoured.
func (p *Pool) Isolation() string { return p.iso.String() }

// takeAllIdleLocked empties every idle list. p.mu must be held.
func (p *Pool) takeAllIdleLocked() []*env {
	var out []*env
	for _, fn := range p.set.Load().byName {
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
