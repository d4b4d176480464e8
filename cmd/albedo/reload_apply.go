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
// the current config serves: the settings that need a restart, the
// interpreters, the remote clients and their policy_source: aws policies,
// the builds (executor Stage), the target groups, the sockets of added
// listeners (balancer Stage), the access-log file; on any failure what was
// prepared is dropped and nothing changed. Then, in this order, so that a
// request never meets a rule whose function is not there yet: the async
// settings and the policies (state files), the functions (executor
// Commit: unchanged ones keep their environments), the remote clients, the
// access log, the listeners and rules (balancer Commit), the health
// checks. hold keeps the watcher off a function's code while it builds.
// refresh names functions whose code changed on disk. Only the reloader
// calls apply, one at a time.
func (s *server) apply(ctx context.Context, next *config.Config, alog *accessLog, hold func(dir string) func(), refresh []string) (*reloadSummary, error) {
	cur := s.current()
	if errs := restartOnly(cur, next); len(errs) > 0 {
		return nil, errs
	}
	interps, problems, warns := checkRuntimes(next)
	if len(problems) > 0 {
		return nil, problems
	}
	for _, w := range warns {
		s.log.Warn(w.Error())
	}
	prevClients := s.inv.Clients()
	clients, rebuilt, err := remoteClients(ctx, next, prevClients, s.log)
	if err != nil {
		return nil, err
	}
	var releases []func()
	for _, f := range next.Functions {
		if len(f.Build) > 0 {
			releases = append(releases, hold(f.Code))
		}
	}
	upd, err := s.pool.Stage(ctx, executorFunctions(next), executor.StageOptions{Interpreters: interps, Refresh: refresh})
	for _, release := range releases {
		release()
	}
	if err != nil {
		return nil, err
	}
	undo := []func(){upd.Discard}
	fail := func(err error) (*reloadSummary, error) {
		for _, u := range slices.Backward(undo) {
			u()
		}
		return nil, err
	}
	groups, err := targetgroup.New(next, targetgroup.Options{Invoker: s.inv, Policies: s.policies, Logger: s.log.With("component", "targetgroup"), Metrics: s.ops.groups})
	if err != nil {
		return fail(err)
	}
	var dest *accessLogDest
	if want := alog.destination(next); want != alog.path {
		if dest, err = alog.open(want); err != nil {
			return fail(err)
		}
		if dest.f != nil {
			undo = append(undo, func() { dest.f.Close() })
		}
	}
	bal := s.balancer()
	var staged *balancer.Staged
	var fresh *balancer.Balancer
	switch {
	case bal != nil:
		if staged, err = bal.Stage(next, forwarders(groups)); err != nil {
			return fail(listenerErrors(next, err))
		}
		undo = append(undo, staged.Discard)
	case len(next.Listeners) > 0: // the first listeners of a functions-only albedo
		lns, err := balancer.Listen(next)
		if err != nil {
			return fail(listenerErrors(next, err))
		}
		opts := s.balOpts
		opts.Listeners, opts.AccessLog = lns, alog.writer()
		if dest != nil {
			opts.AccessLog = dest.w
		}
		if fresh, err = balancer.New(next, forwarders(groups), opts); err != nil {
			for _, ln := range lns {
				ln.Close()
			}
			return fail(err)
		}
		undo = append(undo, func() { fresh.Shutdown(context.Background()) })
	}
	// The state files next: if one cannot be written, nothing serves the
	// new config yet.
	if err := s.queue.SetConfigs(asyncConfigs(next)); err != nil {
		return fail(err)
	}
	if err := s.policies.Update(next.Functions); err != nil {
		return fail(err)
	}
	// The switch.
	if err := upd.Commit(); err != nil {
		return fail(err)
	}
	s.inv.SetClients(clients)
	for _, c := range prevClients {
		if !slices.Contains(clients, c) {
			c.CloseIdleConnections()
		}
	}
	if dest != nil {
		old := alog.use(dest)
		if bal != nil {
			if err := bal.SetAccessLog(dest.w); err != nil {
				s.log.Warn("access log: flushing into the old destination", "err", err)
			}
		}
		if old != nil {
			old.Close()
		}
	}
	if staged != nil {
		if err := staged.Commit(); err != nil {
			return nil, err // shut down meanwhile
		}
	}
	if fresh != nil {
		if err := fresh.Start(); err != nil {
			return nil, err
		}
		bal = fresh
	}
	s.mu.Lock()
	s.health = s.health.Reload(context.Background(), next, groups, s.inv)
	s.cfg, s.groups, s.bal = next, groups, bal
	s.mu.Unlock()
	s.ops.health.Store(s.health)
	s.ops.executor.SetPricing(pricing(next))
	sum := summarize(cur, next, upd, rebuilt)
	if dest != nil {
		sum.accessLog = orNone(dest.path)
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

// The Router holds the remote clients a reload replaces.
var _ interface{ SetClients([]*remote.Client) } = (*remote.Router)(nil)
