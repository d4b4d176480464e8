package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/albedo-lb/albedo/balancer"
	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup"
	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/remote"
)

// current is the configuration being served.
func (s *server) current() *config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// balancer is the balancer, nil while there is none (no listeners yet).
func (s *server) balancer() *balancer.Balancer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bal
}

// apply switches the running server to next, a loaded and valid config,
// without dropping a request. Everything that can fail runs first, while
// the current config serves (prepareReload); on any failure what was
// prepared is dropped and nothing changed. Then, in this order, so that a
// request never meets a rule whose function is not there yet: the async
// settings and the policies (state files), the functions (executor
// Commit: unchanged ones keep their environments), then switchTo the
// rest. hold keeps the watcher off a function's code while it builds.
// refresh names functions whose code changed on disk. Only the reloader
// calls apply, one at a time.
func (s *server) apply(ctx context.Context, next *config.Config, alog *accessLog, hold func(dir string) func(), refresh []string) (*reloadSummary, error) {
	r, err := s.prepareReload(ctx, next, alog, hold, refresh)
	if err != nil {
		return nil, err
	}
	// The state files next: if one cannot be written, nothing serves the
	// new config yet.
	if err := s.queue.SetConfigs(asyncConfigs(next)); err != nil {
		return nil, r.discard(err)
	}
	if err := s.policies.Update(next.Functions); err != nil {
		return nil, r.discard(err)
	}
	// The switch.
	if err := r.upd.Commit(); err != nil {
		return nil, r.discard(err)
	}
	return s.switchTo(r, alog)
}

// preparedReload is a reload made ready while the current config serves:
// everything built, opened and bound, nothing switched.
type preparedReload struct {
	cur, next   *config.Config
	upd         *executor.Update // the functions, built
	prevClients []*remote.Client // the remote clients serving now
	clients     []*remote.Client // those next serves with
	rebuilt     []string         // remote functions whose client is new
	groups      map[string]*targetgroup.Group
	dest        *accessLogDest     // a new access-log destination, nil when it stays
	bal         *balancer.Balancer // the running balancer, nil without one
	staged      *balancer.Staged   // next's listeners and rules for bal
	fresh       *balancer.Balancer // the first balancer of a functions-only albedo
	undo        []func()           // what discard runs, in reverse
}

// discard drops everything prepared and returns err.
func (r *preparedReload) discard(err error) error {
	for _, u := range slices.Backward(r.undo) {
		u()
	}
	return err
}

// prepareReload does every part of a reload that can fail, in the order of
// apply's comment: the settings that need a restart, the interpreters, the
// remote clients and their policy_source: aws policies, the builds
// (executor Stage), the target groups, the access-log file, the sockets
// of added listeners (balancer Stage). On failure it has dropped what it
// prepared.
func (s *server) prepareReload(ctx context.Context, next *config.Config, alog *accessLog, hold func(dir string) func(), refresh []string) (_ *preparedReload, err error) {
	r := &preparedReload{cur: s.current(), next: next}
	if errs := restartOnly(r.cur, next); len(errs) > 0 {
		return nil, errs
	}
	interps, problems, warns := checkRuntimes(next)
	if len(problems) > 0 {
		return nil, problems
	}
	for _, w := range warns {
		s.log.Warn(w.Error())
	}
	r.prevClients = s.inv.Clients()
	if r.clients, r.rebuilt, err = remoteClients(ctx, next, r.prevClients, s.log); err != nil {
		return nil, err
	}
	if r.upd, err = s.stageFunctions(ctx, next, interps, hold, refresh); err != nil {
		return nil, err
	}
	r.undo = append(r.undo, r.upd.Discard)
	r.groups, err = targetgroup.New(next, targetgroup.Options{Invoker: s.inv, Policies: s.policies, Logger: s.log.With("component", "targetgroup"), Metrics: s.ops.groups})
	if err != nil {
		return nil, r.discard(err)
	}
	if want := alog.destination(next); want != alog.path {
		if r.dest, err = alog.open(want); err != nil {
			return nil, r.discard(err)
		}
		if f := r.dest.f; f != nil {
			r.undo = append(r.undo, func() { f.Close() })
		}
	}
	if err := s.stageListeners(r, alog); err != nil {
		return nil, r.discard(err)
	}
	return r, nil
}

// stageFunctions builds next's functions (executor Stage) while the
// current ones serve, the watcher kept off the code of every function with
// a build meanwhile (its outputs are not changes).
func (s *server) stageFunctions(ctx context.Context, next *config.Config, interps map[string]executor.Interpreter, hold func(dir string) func(), refresh []string) (*executor.Update, error) {
	var releases []func()
	for _, f := range next.Functions {
		if len(f.Build) > 0 {
			releases = append(releases, hold(f.Code))
		}
	}
	defer func() {
		for _, release := range releases {
			release()
		}
	}()
	return s.pool.Stage(ctx, executorFunctions(next), executor.StageOptions{Interpreters: interps, Refresh: refresh})
}

// stageListeners prepares next's listeners: staged on the running
// balancer, which binds the addresses next adds, or, for the first
// listeners of a functions-only albedo, a new balancer on fresh sockets,
// not serving yet. What it prepares joins r.undo.
func (s *server) stageListeners(r *preparedReload, alog *accessLog) error {
	r.bal = s.balancer()
	switch {
	case r.bal != nil:
		staged, err := r.bal.Stage(r.next, forwarders(r.groups))
		if err != nil {
			return listenerErrors(r.next, err)
		}
		r.staged = staged
		r.undo = append(r.undo, staged.Discard)
	case len(r.next.Listeners) > 0:
		lns, err := balancer.Listen(r.next)
		if err != nil {
			return listenerErrors(r.next, err)
		}
		opts := s.balOpts
		opts.Listeners, opts.AccessLog = lns, alog.w
		if r.dest != nil {
			opts.AccessLog = r.dest.w
		}
		fresh, err := balancer.New(r.next, forwarders(r.groups), opts)
		if err != nil {
			for _, ln := range lns {
				ln.Close()
			}
			return err
		}
		r.fresh = fresh
		r.undo = append(r.undo, func() { fresh.Shutdown(context.Background()) })
	}
	return nil
}

// switchTo serves r.next once its functions are committed: the remote
// clients, the access log, the listeners and rules (balancer Commit, or
// the first balancer started), then the health checks and the server's
// own fields. Nothing is undone from here: what fails (a balancer shut
// down meanwhile) is returned as is.
func (s *server) switchTo(r *preparedReload, alog *accessLog) (*reloadSummary, error) {
	s.inv.SetClients(r.clients)
	for _, c := range r.prevClients {
		if !slices.Contains(r.clients, c) {
			c.CloseIdleConnections()
		}
	}
	if r.dest != nil {
		alog.switchTo(r.dest, r.bal, s.log)
	}
	bal := r.bal
	if r.staged != nil {
		if err := r.staged.Commit(); err != nil {
			return nil, err // shut down meanwhile
		}
	}
	if r.fresh != nil {
		if err := r.fresh.Start(); err != nil {
			return nil, err
		}
		bal = r.fresh
	}
	s.mu.Lock()
	s.health = s.health.Reload(context.Background(), r.next, r.groups, s.inv)
	s.cfg, s.groups, s.bal = r.next, r.groups, bal
	s.mu.Unlock()
	s.ops.health.Store(s.health)
	s.ops.executor.SetPricing(pricing(r.next))
	sum := summarize(r.cur, r.next, r.upd, r.rebuilt)
	if r.dest != nil {
		sum.accessLog = orNone(r.dest.path)
	}
	return sum, nil
}

// listenerErrors turns the balancer's bind errors into albedo's messages
// (the setting to change); other errors pass.
func listenerErrors(cfg *config.Config, err error) error {
	var le *balancer.ListenError
	if !errors.As(err, &le) {
		return err
	}
	return errors.Join(listenerBindErrors(cfg, err)...)
}

// restartOnly reports the settings next changes that a running albedo
// cannot take: the state files it holds, the admin listener, the names in
// every ARN, the pool's global limits. The reload is refused with them.
func restartOnly(cur, next *config.Config) config.Errors {
	var errs config.Errors
	check := func(path string, a, b any, secret bool) {
		if reflect.DeepEqual(a, b) {
			return
		}
		was := fmt.Sprintf(" (%v, now %v)", show(a), show(b))
		if secret {
			was = ""
		}
		errs = append(errs, next.ErrorAt(path, "cannot change while albedo runs%s: restart albedo to apply it; the reload was not applied", was))
	}
	check("state_dir", cur.StateDir, next.StateDir, false)
	check("region", cur.Region, next.Region, false)
	check("account_id", cur.AccountID, next.AccountID, false)
	check("load_balancer", cur.LoadBalancer, next.LoadBalancer, false)
	check("admin.address", cur.Admin.Address, next.Admin.Address, false)
	check("admin.credentials", cur.Admin.Credentials, next.Admin.Credentials, true)
	check("admin.ops_token", cur.Admin.OpsToken, next.Admin.OpsToken, true)
	check("log", cur.Log, next.Log, false)
	check("max_concurrency", cur.MaxConcurrency, next.MaxConcurrency, false)
	check("idle_timeout", cur.IdleTimeout.Duration, next.IdleTimeout.Duration, false)
	check("memory_budget", cur.MemoryBudget, next.MemoryBudget, false)
	check("body_memory_budget", cur.BodyMemoryBudget, next.BodyMemoryBudget, false)
	return errs
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// reloadSummary is what a config reload changed, for its one log line.
// Each list is "+added -removed ~changed" names.
type reloadSummary struct {
	listeners, targetGroups, functions, remote string
	unchanged                                  int // local functions that kept their environments
	accessLog                                  string
}

func (r *reloadSummary) attrs() []any {
	if r.listeners == "" && r.targetGroups == "" && r.functions == "" && r.remote == "" && r.accessLog == "" {
		return []any{"changes", "none"}
	}
	var out []any
	for _, kv := range []struct{ k, v string }{
		{"listeners", r.listeners}, {"target_groups", r.targetGroups}, {"functions", r.functions},
		{"remote_functions", r.remote}, {"access_log", r.accessLog},
	} {
		if kv.v != "" {
			out = append(out, kv.k, kv.v)
		}
	}
	return append(out, "functions_kept_warm", r.unchanged)
}

// summarize compares cur and next.
func summarize(cur, next *config.Config, upd *executor.Update, rebuilt []string) *reloadSummary {
	sum := &reloadSummary{unchanged: len(upd.Unchanged)}
	listenerKey := func(l config.Listener) string { return net.JoinHostPort(l.Address, strconv.Itoa(l.Port)) }
	sum.listeners = diffNamed(cur.Listeners, next.Listeners, listenerKey)
	sum.targetGroups = diffNamed(cur.TargetGroups, next.TargetGroups, func(tg config.TargetGroup) string { return tg.Name })
	sum.functions = marks(upd.Added, upd.Removed, upd.Changed)
	var removedRemote []string
	for _, f := range cur.Functions {
		if f.Remote() {
			if nf := next.FunctionByName(f.Name); nf == nil || !nf.Remote() {
				removedRemote = append(removedRemote, f.Name)
			}
		}
	}
	var added, changed []string
	for _, name := range rebuilt {
		if f := cur.FunctionByName(name); f != nil && f.Remote() {
			changed = append(changed, name)
		} else {
			added = append(added, name)
		}
	}
	sum.remote = marks(added, removedRemote, changed)
	return sum
}

// diffNamed compares two lists of configs by key.
func diffNamed[T any](cur, next []T, key func(T) string) string {
	old := map[string]T{}
	for _, c := range cur {
		old[key(c)] = c
	}
	var added, removed, changed []string
	seen := map[string]bool{}
	for _, n := range next {
		k := key(n)
		seen[k] = true
		if o, ok := old[k]; !ok {
			added = append(added, k)
		} else if !reflect.DeepEqual(o, n) {
			changed = append(changed, k)
		}
	}
	for _, c := range cur {
		if !seen[key(c)] {
			removed = append(removed, key(c))
		}
	}
	return marks(added, removed, changed)
}

// marks writes "+a -b ~c".
func marks(added, removed, changed []string) string {
	var b []string
	for _, x := range []struct {
		sign  string
		names []string
	}{{"+", added}, {"-", removed}, {"~", changed}} {
		for _, n := range x.names {
			b = append(b, x.sign+n)
		}
	}
	return strings.Join(b, " ")
}
