package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/internal/watch"
	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// reloader runs what `albedo serve` does after start-up besides serving:
// SIGHUP, and with -watch a change of the config file, reload the config
// (apply); with -watch a change of a function's code or layers reloads that
// function (its build, then fresh environments); SIGUSR1 reopens the
// access log. One at a time, on one goroutine.
type reloader struct {
	s        *server
	file     string // the config file as given ("" = ./albedo.yaml, else the embedded default)
	log      *slog.Logger
	problems io.Writer // config problems, printed one per line as `albedo validate` prints them
	alog     *accessLog
	watch    *watch.Watcher // nil without -watch

	// onReload, when set, is told the outcome of every config reload
	// (SIGHUP, or a change of the watched file), successful or not, and
	// when it ended: serve counts it in albedo_config_reloads_total,
	// albedo_config_last_reload_successful and its timestamp. A
	// function's code reload is not a config reload and does not call it.
	onReload func(ok bool, at time.Time)
	// prepare applies to every reloaded config what the command line set
	// for the first one (-log-level, -log-format), so that a flag is not
	// read as a change of the file.
	prepare func(*config.Config)
}

// start begins watching (with -watch) and handling signals and changes
// until ctx ends; the returned channel is closed when it has stopped (a
// reload in progress finishes first, its builds cancelled by ctx).
func (r *reloader) start(ctx context.Context, hup, usr1 <-chan os.Signal) <-chan struct{} {
	done := make(chan struct{})
	var changes <-chan watch.Change
	if r.watch != nil {
		r.watch.Set(watchTargets(r.file, r.s.current(), r.alog.path))
		changes = r.watch.Changes()
	}
	go func() {
		defer close(done)
		if r.watch != nil {
			defer r.watch.Close()
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				r.reloadConfig(ctx, "SIGHUP", nil)
			case <-usr1:
				r.reopenAccessLog()
			case c, ok := <-changes:
				if !ok {
					changes = nil
					continue
				}
				r.changed(ctx, append([]watch.Change{c}, drain(changes)...))
			}
		}
	}()
	return done
}

// drain takes the changes already waiting, so that one reload covers them.
func drain(changes <-chan watch.Change) []watch.Change {
	var out []watch.Change
	for {
		select {
		case c, ok := <-changes:
			if !ok {
				return out
			}
			out = append(out, c)
		default:
			return out
		}
	}
}

// changed handles watched changes: the config file's reloads the config
// (with the functions whose code changed too refreshed by it), otherwise
// each function whose files changed is reloaded.
func (r *reloader) changed(ctx context.Context, batch []watch.Change) {
	configChanged := false
	code := map[string]watch.Change{}
	for _, c := range batch {
		if c.Target == configTarget {
			configChanged = true
			continue
		}
		name := strings.TrimPrefix(c.Target, functionTarget)
		if prev, ok := code[name]; ok {
			c.Paths, c.More = append(prev.Paths, c.Paths...), prev.More+c.More
		}
		code[name] = c
	}
	if configChanged {
		var refresh []string
		for name := range code {
			refresh = append(refresh, name)
		}
		slices.Sort(refresh)
		r.reloadConfig(ctx, "file changed", refresh)
		return
	}
	if len(code) > 0 {
		r.reloadCode(ctx, code)
	}
}

// reloadConfig loads and validates the config file and applies it; any
// problem keeps the running configuration, and is logged and printed as
// `albedo validate` prints it.
func (r *reloader) reloadConfig(ctx context.Context, trigger string, refresh []string) {
	start := time.Now()
	next, source, err := loadConfig(r.file)
	if err == nil && r.prepare != nil {
		r.prepare(next)
	}
	if err == nil {
		printProblems(r.problems, next.Warnings)
		var sum *reloadSummary
		sum, err = r.s.apply(ctx, next, r.alog, r.hold, refresh)
		if err == nil {
			if r.watch != nil {
				r.watch.Set(watchTargets(r.file, next, r.alog.path))
			}
			attrs := append([]any{"trigger", trigger, "file", source}, sum.attrs()...)
			r.log.Info("config reloaded", append(attrs, "duration_ms", time.Since(start).Milliseconds())...)
			r.reloaded(true)
			return
		}
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		r.log.Info("config reload interrupted by shutdown", "trigger", trigger)
		return
	}
	problems := r.printErrors(err)
	r.log.Error("config reload failed: albedo keeps serving the previous configuration",
		"trigger", trigger, "file", source, "problems", problems)
	r.reloaded(false)
}

func (r *reloader) reloaded(ok bool) {
	if r.onReload != nil {
		r.onReload(ok, time.Now())
	}
}

// printErrors prints err's problems, config ones as validate prints them
// (file:line:col: path: message), others as start-up prints them, and
// returns how many there were.
func (r *reloader) printErrors(err error) int {
	var errs config.Errors
	if errors.As(err, &errs) {
		printProblems(r.problems, errs)
		return len(errs)
	}
	leaves := unwrapAll(err)
	for _, e := range leaves {
		if ce, ok := e.(*config.Error); ok {
			fmt.Fprintln(r.problems, ce)
			continue
		}
		fmt.Fprintf(r.problems, "albedo: %v\n", e)
	}
	return len(leaves)
}

// hold keeps the watcher from reporting what a build writes into dir
// (nil without -watch).
func (r *reloader) hold(dir string) func() {
	if r.watch == nil {
		return func() {}
	}
	return r.watch.Hold(dir)
}

// reloadCode reloads the functions whose files changed: builds them, gives
// them fresh environments (in-flight invocations finish on the old ones)
// and starts one ahead of the next request for a function that had one.
// A failed build keeps the old code serving; its output is in the log.
// One line per function: what changed, and how long build and restart
// took.
func (r *reloader) reloadCode(ctx context.Context, changes map[string]watch.Change) {
	start := time.Now()
	cfg := r.s.current()
	var names []string
	for name := range changes {
		if f := cfg.FunctionByName(name); f != nil && !f.Remote() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return
	}
	warm := map[string]bool{}
	var releases []func()
	for _, name := range names {
		warm[name] = r.s.pool.Live(name) > 0
		if f := cfg.FunctionByName(name); len(f.Build) > 0 {
			releases = append(releases, r.hold(f.Code))
		}
	}
	u, err := r.s.pool.Stage(ctx, executorFunctions(cfg), executor.StageOptions{Refresh: names})
	for _, release := range releases {
		release()
	}
	if err == nil {
		err = u.Commit()
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		for _, name := range names {
			attrs := []any{"function", name, "changed", changedFiles(cfg.FunctionByName(name), changes[name])}
			var be *executor.BuildError
			if errors.As(err, &be) && be.Function != name {
				r.log.Warn("function not reloaded: another function's build failed", append(attrs, "failed", be.Function)...)
				continue
			}
			r.log.Error("function reload failed: its previous code keeps serving", append(attrs, "err", err)...)
		}
		return
	}
	for _, name := range names {
		attrs := []any{"function", name, "changed", changedFiles(cfg.FunctionByName(name), changes[name])}
		if d, ok := u.Built(name); ok {
			attrs = append(attrs, "build_ms", d.Milliseconds())
		}
		if warm[name] {
			d, err := r.s.pool.Warm(ctx, name)
			if err != nil {
				r.log.Warn("function reloaded; its new environment did not start", append(attrs, "err", err)...)
				continue
			}
			attrs = append(attrs, "restart_ms", d.Milliseconds())
		}
		r.log.Info("function reloaded", append(attrs, "total_ms", time.Since(start).Milliseconds())...)
	}
}

// changedFiles lists a change's paths relative to the function's code
// directory (or its layer's), for the reload line.
func changedFiles(f *config.Function, c watch.Change) string {
	var out []string
	for _, p := range c.Paths {
		rel := p
		for _, root := range append([]string{f.Code}, f.Layers...) {
			if r, err := filepath.Rel(root, p); err == nil && filepath.IsLocal(r) {
				rel = r
				if root != f.Code {
					rel = filepath.Base(root) + "/" + r // a layer's file
				}
				break
			}
		}
		out = append(out, rel)
	}
	s := strings.Join(out, ", ")
	if c.More > 0 {
		s += fmt.Sprintf(" and %d more", c.More)
	}
	return s
}

// reopenAccessLog opens the access-log file again by its name (after
// logrotate renamed it) and moves the balancer to it; the old file gets
// every line buffered before.
func (r *reloader) reopenAccessLog() {
	if r.alog.f == nil {
		r.log.Info("SIGUSR1: no access-log file to reopen", "access_log", r.alog.path)
		return
	}
	d, err := r.alog.open(r.alog.path)
	if err != nil {
		r.log.Error("SIGUSR1: cannot reopen the access log; lines keep going to the old file", "err", err)
		return
	}
	r.alog.switchTo(d, r.s.balancer(), r.log)
	r.log.Info("access log reopened", "path", d.path)
}
