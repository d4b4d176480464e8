package executor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"time"
)

// A running Pool changes its set of functions in two steps, so that a
// caller can stop before anything changes (a failed build, or a problem of
// its own such as a port it cannot bind):
//
//   - Stage compiles the new set, compares it with the current one and runs
//     the build commands of the functions that need one; the current set
//     keeps serving, whatever Stage finds.
//   - Commit swaps the sets. An unchanged function keeps its *function and
//     so its environments, warm and busy: the same processes serve it. A
//     changed one (settings, compiled command line or environment, or named
//     in Refresh because its code changed on disk) is a new function with
//     no environment: new invocations start fresh environments, while the
//     old function's idle environments stop at once and its busy ones stop
//     when their invocation ends. A removed function's environments go the
//     same way; its name still reaches it for RemovedGrace after Commit,
//     for requests a caller had already routed to it (a balancer whose
//     rules change a moment after the Pool), and the listing drops it at
//     once.
//
// The executor knows nothing of where the functions come from: cmd/albedo
// translates its config into []Function, as for New.

// RemovedGrace is how long a function removed by an Update still answers
// invocations by its name.
const RemovedGrace = 5 * time.Second

// ErrStale: Commit of an Update staged against a set another Commit has
// replaced since.
var ErrStale = errors.New("executor: the functions changed since the update was staged")

// functionSet is the Pool's functions; an Update replaces it whole.
type functionSet struct {
	byName map[string]*function
	names  []string // sorted
	// removed are functions a Commit dropped, invocable by name until
	// their deadline.
	removed map[string]removedFunction
}

type removedFunction struct {
	fn    *function
	until time.Time
}

// lookup finds the function an invocation names: a current one, else one
// removed less than RemovedGrace ago.
func (s *functionSet) lookup(name string) (*function, bool) {
	if fn, ok := s.byName[name]; ok {
		return fn, true
	}
	if r, ok := s.removed[name]; ok && time.Now().Before(r.until) {
		return r.fn, true
	}
	return nil, false
}

// compileSet compiles fns into a set; problems are joined, each with its
// index.
func compileSet(ce *compileEnv, fns []Function) (*functionSet, error) {
	set := &functionSet{byName: make(map[string]*function, len(fns))}
	var errs []error
	for i, f := range fns {
		fn, err := ce.compile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("functions[%d]: %w", i, err))
			continue
		}
		if _, dup := set.byName[f.Name]; dup {
			errs = append(errs, fmt.Errorf("functions[%d]: executor: duplicate function name %q", i, f.Name))
			continue
		}
		// Metrics by name: a function replaced by a reload counts on in
		// the same series.
		fn.m = ce.opts.Metrics.function(f.Name)
		set.byName[f.Name] = fn
		set.names = append(set.names, f.Name)
	}
	slices.Sort(set.names)
	return set, errors.Join(errs...)
}

// StageOptions are the parts of a Stage beyond the functions themselves.
type StageOptions struct {
	// Interpreters replaces Options.Interpreters for the new set (see
	// there); nil keeps the current ones.
	Interpreters map[string]Interpreter
	// Refresh names functions whose code changed on disk: they count as
	// changed even with the same settings, and their build runs.
	Refresh []string
}

// Update is a new set of functions, compiled and built by Stage, not yet
// serving. Commit it or Discard it.
type Update struct {
	p     *Pool
	base  *functionSet
	next  *functionSet
	opts  StageOptions
	built map[string]time.Duration // functions whose build ran, and how long it took
	done  bool

	// What Commit changes, each sorted by name. Changed includes the
	// functions of Refresh that exist in both sets.
	Added, Changed, Removed, Unchanged []string
}

// Built reports whether Stage ran the build command of name, and how long
// it took.
func (u *Update) Built(name string) (time.Duration, bool) {
	d, ok := u.built[name]
	return d, ok
}

// Stage compiles fns (the whole new set) against the Pool's current set
// and runs the build command of every added function, and of every
// changed one whose code directory or command changed or that Refresh
// names, in order; on the first failure (a *BuildError, whose output went
// to FunctionLog like any build's) it stops and returns it, and nothing
// changes. The current functions serve meanwhile; their environments see
// the new files a build wrote when they next start. Updates must not
// overlap: Commit or Discard one before staging the next.
func (p *Pool) Stage(ctx context.Context, fns []Function, opts StageOptions) (*Update, error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	co := p.opts
	if opts.Interpreters != nil {
		co.Interpreters = opts.Interpreters
	}
	cwd, _ := os.Getwd()
	next, err := compileSet(&compileEnv{opts: co, cwd: cwd, path: hostPath(), libs: os.Getenv("LD_LIBRARY_PATH"), log: p.log}, fns)
	if err != nil {
		return nil, err
	}
	p.warnCPU(next)
	u := &Update{p: p, base: p.set.Load(), next: next, opts: opts, built: map[string]time.Duration{}}
	refresh := map[string]bool{}
	for _, n := range opts.Refresh {
		refresh[n] = true
	}
	for _, name := range next.names {
		fn, old := next.byName[name], u.base.byName[name]
		switch {
		case old == nil:
			u.Added = append(u.Added, name)
		case !refresh[name] && sameFunction(old, fn):
			next.byName[name] = old // keeps its environments
			u.Unchanged = append(u.Unchanged, name)
			continue
		default:
			u.Changed = append(u.Changed, name)
		}
		if len(fn.cfg.Build) == 0 {
			continue
		}
		if old != nil && !refresh[name] && old.cfg.Code == fn.cfg.Code && slices.Equal(old.cfg.Build, fn.cfg.Build) && old.builtOK() {
			fn.build.done = true // nothing it builds from changed
			continue
		}
		start := time.Now()
		if err := p.runBuild(ctx, fn); err != nil {
			return nil, err
		}
		fn.build.done = true
		u.built[name] = time.Since(start)
	}
	for _, name := range u.base.names {
		if next.byName[name] == nil {
			u.Removed = append(u.Removed, name)
		}
	}
	return u, nil
}

// builtOK reports a build that ran and succeeded.
func (fn *function) builtOK() bool {
	fn.build.mu.Lock()
	defer fn.build.mu.Unlock()
	return fn.build.done && fn.build.err == nil
}

// sameFunction reports whether b would start environments exactly as a
// does: same settings, command line, working directory and environment.
func sameFunction(a, b *function) bool {
	return reflect.DeepEqual(a.cfg, b.cfg) && slices.Equal(a.argv, b.argv) && a.dir == b.dir && maps.Equal(a.env, b.env)
}

// Commit makes the staged set the Pool's (see the top of this file). It
// fails with ErrStale when another Update was committed since Stage, and
// with ErrClosed after Close; nothing changes then.
func (u *Update) Commit() error {
	if u.done {
		return errors.New("executor: update already committed or discarded")
	}
	u.done = true
	p := u.p
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	if p.set.Load() != u.base {
		p.mu.Unlock()
		return ErrStale
	}
	now := time.Now()
	u.next.removed = map[string]removedFunction{}
	for name, r := range u.base.removed {
		if now.Before(r.until) && u.next.byName[name] == nil {
			u.next.removed[name] = r
		}
	}
	var stop []*env
	for _, name := range u.base.names {
		old := u.base.byName[name]
		if u.next.byName[name] == old {
			continue
		}
		old.retired = true
		for _, e := range old.idle {
			e.idle = false
			p.idleLRU.Remove(e)
			stop = append(stop, e)
		}
		clear(old.idle)
		old.idle = old.idle[:0]
		if u.next.byName[name] == nil {
			u.next.removed[name] = removedFunction{fn: old, until: now.Add(RemovedGrace)}
		}
	}
	p.set.Store(u.next)
	if u.opts.Interpreters != nil {
		p.opts.Interpreters = u.opts.Interpreters
	}
	p.mu.Unlock()
	for _, e := range stop {
		go e.stop(reasonReplaced)
	}
	return nil
}

// Discard drops a staged update. The files its builds wrote stay.
func (u *Update) Discard() { u.done = true }

// Live returns how many environments of name are alive (starting, busy or
// idle) in the current set.
func (p *Pool) Live(name string) int {
	fn, ok := p.set.Load().byName[name]
	if !ok {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return fn.live
}

// Warm starts one environment of name and waits for its init to end, so
// that the next invocation finds it ready (a reload's "restart"); it
// returns how long that took. An init that fails is returned as an error
// (the environment is gone then); the next invocation will start another.
// It is throttled like an invocation.
func (p *Pool) Warm(ctx context.Context, name string) (time.Duration, error) {
	fn, ok := p.set.Load().byName[name]
	if !ok {
		return 0, fmt.Errorf("warm %s: %w", name, ErrFunctionNotFound)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return 0, ErrClosed
	}
	p.inflight.Add(1)
	p.mu.Unlock()
	defer p.inflight.Done()
	if err := p.build(ctx, fn); err != nil {
		return 0, fmt.Errorf("warm %s: %w", name, err)
	}
	start := time.Now()
	e, cold, err := p.acquire(fn)
	if err != nil {
		return 0, fmt.Errorf("warm %s: %w", name, err)
	}
	if !cold { // an idle one appeared meanwhile: already warm
		p.release(e)
		return 0, nil
	}
	p.stats.coldStarts.Add(1)
	if err := e.launch(); err != nil {
		p.stats.initFailures.Add(1)
		return 0, fmt.Errorf("warm %s: %w", name, err)
	}
	t := time.NewTimer(p.opts.InitTimeout)
	defer t.Stop()
	select {
	case <-e.ready:
		p.release(e)
		return time.Since(start), nil
	case <-e.initFailed:
		e.kill(reasonInitFailed)
		e.mu.Lock()
		typ, body := e.initErrType, string(e.initErr)
		e.mu.Unlock()
		p.stats.initFailures.Add(1)
		return 0, fmt.Errorf("warm %s: init failed: %s: %s", name, typ, body)
	case <-e.dead:
		p.stats.initFailures.Add(1)
		e.mu.Lock()
		desc := e.exitDesc
		e.mu.Unlock()
		return 0, fmt.Errorf("warm %s: runtime exited during init: %s", name, desc)
	case <-t.C:
		e.kill(reasonInitTimeout)
		p.stats.initFailures.Add(1)
		return 0, fmt.Errorf("warm %s: init took longer than %s", name, p.opts.InitTimeout)
	case <-ctx.Done():
		p.inflight.Add(1)
		go p.adopt(e) // it may still become ready: keep it then
		return 0, ctx.Err()
	}
}

// awsCPU are the functions of the set with cpu_model aws, sorted.
func (s *functionSet) awsCPU() []string {
	var out []string
	for _, n := range s.names {
		if s.byName[n].cfg.CPUModel == CPUModelAWS {
			out = append(out, n)
		}
	}
	return out
}

// warnCPU logs each function of set whose cpu_model aws the isolation in
// use cannot honour (no cgroups; on cgroup v2, no cpu controller because
// no function asked for one at start).
func (p *Pool) warnCPU(set *functionSet) {
	if p.iso.limitsCPU() {
		return
	}
	for _, n := range set.awsCPU() {
		p.log.Warn("cpu_model aws cannot be honoured: the function gets the host's CPU", "function", n, "isolation", p.iso.String())
	}
}
