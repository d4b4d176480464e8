package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/albedo-lb/albedo/balancer"
	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/internal/intake"
	"github.com/albedo-lb/albedo/targetgroup"
	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/async"
	"github.com/albedo-lb/albedo/targetgroup/executor/invokeapi"
	"github.com/albedo-lb/albedo/targetgroup/executor/policy"
	"github.com/albedo-lb/albedo/targetgroup/executor/remote"
)

// shutdownGrace is how long in-flight requests may take to finish after
// SIGINT/SIGTERM.
const shutdownGrace = 30 * time.Second

// asyncWorkers caps concurrent asynchronous deliveries.
const asyncWorkers = 64

// runServe is `albedo serve [-config FILE | FILE] [-access-log FILE|-]
// [-log-level LEVEL] [-log-format text|json] [-watch [-watch-poll]]`.
func runServe(args []string, stdout, stderr io.Writer) int {
	return serve(context.Background(), args, stdout, stderr)
}

// serve runs albedo until ctx is done or a signal arrives. It is separate
// from runServe so tests can run the real server in-process.
func serve(parent context.Context, args []string, stdout, stderr io.Writer) int {
	f, code, ok := parseServeFlags(args, stdout, stderr)
	if !ok {
		return code
	}
	cfg, source, err := loadConfig(f.file)
	if err != nil {
		printConfigError(stderr, err)
		return 2
	}
	applyLogFlags(cfg, f.logLevel, f.logFormat)
	out := newConsole(cfg.Log, stderr)
	if code := reportRuntimes(out.problems, cfg); code != 0 {
		return code
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SIGHUP and SIGUSR1 are albedo's from the first moment: their default
	// action ends a process, and neither may (a reload asked for during a
	// long start-up build runs right after start-up).
	hup, usr1 := make(chan os.Signal, 1), make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(hup)
	defer signal.Stop(usr1)

	alog := &accessLog{flag: f.accessLog, stdout: stdout}
	dest, err := alog.open(alog.destination(cfg))
	if err != nil {
		out.fail(err.Error())
		return 1
	}
	alog.use(dest)
	defer alog.close()
	s, err := start(ctx, cfg, out.log, stderr, alog.w)
	if err != nil {
		return out.startFailed(err, ctx.Err() != nil && parent.Err() == nil)
	}
	fmt.Fprintf(stdout, "albedo %s serving %s\n", version, source)
	s.describe(stdout)
	r := &reloader{s: s, file: reloadFile(f.file, cfg), log: out.log, problems: out.problems, alog: alog,
		onReload: s.ops.config.reloaded,
		prepare:  func(c *config.Config) { applyLogFlags(c, f.logLevel, f.logFormat) }}
	if f.watch {
		r.watch = newWatcher(out.log, f.watchPoll)
	}
	reloaded := r.start(ctx, hup, usr1)

	<-ctx.Done()
	<-reloaded // a reload in progress ends first (its builds are cancelled)
	// From here a second SIGINT/SIGTERM gets Go's default action and ends
	// the process at once (function processes die with it: Pdeathsig).
	stop()
	fmt.Fprintln(stdout, "albedo: shutting down (again to force)")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := s.shutdown(sctx); err != nil {
		out.fail("shutdown: " + err.Error())
		return 1
	}
	return 0
}

// serveFlags are serve's command line.
type serveFlags struct {
	file, accessLog     string
	logLevel, logFormat string
	watch, watchPoll    bool
}

// parseServeFlags parses serve's command line; ok reports whether serve
// should go on, and when it is false serve returns code (usage printed).
func parseServeFlags(args []string, stdout, stderr io.Writer) (f serveFlags, code int, ok bool) {
	fs := newFlags("serve", "albedo serve [-config FILE | FILE] [-access-log FILE|-] [-log-level LEVEL] [-log-format text|json] [-watch [-watch-poll]]",
		"Serve the config FILE (the same as -config FILE), else ./albedo.yaml, else the embedded\n"+
			"default, until SIGINT or SIGTERM. Every listener and the admin address are bound\n"+
			"before anything else starts. SIGHUP reloads the config without dropping a request\n"+
			"(an invalid one is logged and changes nothing); SIGUSR1 reopens the access log.\n"+
			"Exit status: 0 after a signal, 1 if start-up fails, 2 for an invalid configuration\n"+
			"or bad usage.")
	path := fs.String("config", "", "config file [./albedo.yaml if present, else the embedded default]")
	accessLogFlag := fs.String("access-log", "", "write ALB access-log lines (one per request, with error_reason) to this file, overriding the config's access_log; - = stdout")
	watchFlag := fs.Bool("watch", false, "reload when the config file changes, and reload a function (running its build) when its code or layers change")
	watchPoll := fs.Bool("watch-poll", false, "with -watch: poll for changes instead of using file-system events (chosen by itself where events do not arrive)")
	logLevel := fs.String("log-level", "", "albedo's own log records from this level on: debug, info, warn or error [log.level, else info]")
	logFormat := fs.String("log-format", "", "albedo's log on stderr: text, or json (one object per line; function output and START/END/REPORT\nin \"msg\", as Lambda writes them) [log.format, else text]")
	file, code, ok := fs.parseConfig(args, path, stdout, stderr)
	if !ok {
		return serveFlags{}, code, false
	}
	if msg := checkLogFlags(*logLevel, *logFormat); msg != "" {
		return serveFlags{}, fs.fail(stderr, "%s", msg), false
	}
	if *watchPoll && !*watchFlag {
		return serveFlags{}, fs.fail(stderr, "-watch-poll needs -watch"), false
	}
	return serveFlags{file: file, accessLog: *accessLogFlag, logLevel: *logLevel, logFormat: *logFormat,
		watch: *watchFlag, watchPoll: *watchPoll}, 0, true
}

// console is where serve reports to the operator: albedo's logger, and
// stderr for what is not a log record in text format.
type console struct {
	log    *slog.Logger
	stderr io.Writer
	json   bool
	// problems receives interpreter problems and config warnings: plain
	// lines, or records in JSON format so that every line on stderr
	// parses.
	problems io.Writer
}

func newConsole(c config.Log, stderr io.Writer) console {
	out := console{log: newLogger(c, stderr), stderr: stderr, json: c.Format == "json", problems: stderr}
	if out.json {
		out.problems = logLines{out.log}
	}
	return out
}

// fail reports a start-up or shutdown failure: a record in JSON format, so
// that every line on stderr parses, else a plain line.
func (c console) fail(msg string) {
	if c.json {
		c.log.Error(msg)
		return
	}
	fmt.Fprintln(c.stderr, "albedo: "+msg)
}

// startFailed reports why start failed and returns serve's exit status:
// 2 when a remote policy refused the config, else 1. interrupted is a
// signal during start-up, which is all it reports then.
func (c console) startFailed(err error, interrupted bool) int {
	if interrupted {
		c.fail("interrupted during start-up")
		return 1
	}
	for _, e := range unwrapAll(err) {
		c.fail(e.Error())
	}
	if errors.Is(err, config.ErrInvalid) { // a remote policy refused the config
		return 2
	}
	return 1
}

// server is everything `albedo serve` runs. A reload (reload.go) replaces
// cfg, groups, health and bal under mu; the other parts live as long as
// the process and follow reloads through their own Update methods.
type server struct {
	mu       sync.Mutex
	cfg      *config.Config
	pool     *executor.Pool
	inv      *remote.Router // every invocation: remote functions, else pool
	policies *policy.Store
	queue    *async.Queue
	groups   map[string]*targetgroup.Group
	health   *targetgroup.HealthChecker
	socks    *sockets
	bal      *balancer.Balancer // nil without listeners
	admin    *invokeapi.Server
	adminLn  net.Listener
	// bodies is the body_memory_budget shared by the listeners and the
	// admin API (Stats: bytes held, bodies refused).
	bodies *intake.Budget
	ops    *ops // metrics and the admin address's operations endpoints
	// balOpts are the options of the balancer, for one a reload creates.
	balOpts balancer.Options
	log     *slog.Logger
}

// start binds every socket, then builds and starts every part; on error it
// stops what it started. The order is chosen so that whatever can refuse
// to start does so before anything slow (a build) or lasting (state files,
// function processes) happens, and so that each part exists before the
// parts that use it. Without listeners there is no balancer: the functions
// are served by the Invoke API alone.
func start(ctx context.Context, cfg *config.Config, log *slog.Logger, functionLog, accessLog io.Writer) (_ *server, err error) {
	s := &server{cfg: cfg, bodies: intake.NewBudget(int64(cfg.BodyMemoryBudget) << 20), log: log}
	s.ops = newOps(cfg, s.bodies, log)
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = s.shutdown(sctx)
		}
	}()
	// Every socket first: a busy port must end start-up before a function
	// is built or a state file opened (unless what holds it was left by a
	// killed albedo with this state_dir: leftovers.go).
	if s.socks, err = bindAfterLeftovers(cfg, log); err != nil {
		return nil, err
	}
	// Remote functions before the state and any build: a refused
	// policy_source: aws policy ends start-up at once, and the policies
	// it fetched go into cfg before the policy store opens.
	clients, _, err := remoteClients(ctx, cfg, nil, log)
	if err != nil {
		return nil, err
	}
	warnEmptyStateFiles(cfg.StateDir, log)
	if err := s.openPolicies(); err != nil {
		return nil, err
	}
	if err := s.newPool(functionLog); err != nil {
		return nil, err
	}
	// Every invocation goes through the router: remote functions to their
	// clients, the others to the pool.
	s.inv = remote.NewRouter(s.pool, clients)
	if err := s.openQueue(); err != nil {
		return nil, err
	}
	// The admin address serves from here: the Invoke API (an invocation
	// waits for its function's build) and /readyz, 503 until the
	// listeners serve.
	s.ops.setNotReady("starting: building functions")
	if err := s.startAdmin(log); err != nil {
		return nil, err
	}
	if err := s.pool.Prepare(ctx); err != nil {
		return nil, err
	}
	// Stored events are delivered once the functions are built.
	s.queue.Start()
	if err := s.startTargetGroups(); err != nil {
		return nil, err
	}
	s.ops.setNotReady("starting: listeners not serving yet")
	if err := s.startBalancer(accessLog); err != nil {
		return nil, err
	}
	s.ops.setReady()
	return s, nil
}

// newPool creates the Lambda service for the local functions. It starts no
// function process and builds nothing (Prepare does, later), so it comes
// right after the sockets: a missing or too old interpreter, or a function
// the executor refuses, ends start-up before anything slow. The remote
// router wraps it, so it exists before the remote functions.
func (s *server) newPool(functionLog io.Writer) error {
	cfg := s.cfg
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable for builtin functions: %w", err)
	}
	interps, problems, _ := checkRuntimes(cfg)
	if len(problems) > 0 {
		return problems
	}
	stateDir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return err
	}
	s.pool, err = executor.New(executor.Options{
		MaxConcurrency: cfg.MaxConcurrency,
		IdleTimeout:    cfg.IdleTimeout.Duration,
		MemoryBudget:   cfg.MemoryBudget,
		RuntimeDir:     filepath.Join(cfg.StateDir, "runtime"),
		Interpreters:   interps,
		BuiltinCommand: []string{self, builtinSubcommand},
		CgroupName:     executor.CgroupNameFor(stateDir),
		Logger:         s.log,
		FunctionLog:    functionLog,
		// Lines name their function: every function logs to one terminal.
		PrefixFunctionLog: true,
		FunctionRecords:   functionRecords(cfg.Log, functionLog),
		Metrics:           s.ops.executor,
	}, executorFunctions(cfg))
	return err
}

// openPolicies opens the policy store. It runs before any build, so that
// a damaged or locked state file ends start-up at once rather than after a
// long build; after the remote functions, whose fetched policies the store
// starts from; and before the pool: holding the state_dir's lock makes its
// cgroups this albedo's, so the pool may end what a killed predecessor
// left in them.
func (s *server) openPolicies() error {
	var err error
	s.policies, err = policy.Open(s.cfg.StateDir, s.cfg.Region, s.cfg.AccountID, s.cfg.Functions)
	if err != nil {
		return stateOpenError(s.cfg.StateDir, err)
	}
	return nil
}

// openQueue opens the async queue (not dispatching yet: start starts it
// after the builds), before any build for the same reason as the policy
// store. It delivers through the remote router, which must exist.
func (s *server) openQueue() error {
	cfg := s.cfg
	var err error
	s.queue, err = async.Open(async.Options{
		Dir:     cfg.StateDir,
		Configs: asyncConfigs(cfg),
		// Never more deliveries at once than environments may exist, so
		// the dispatcher does not throttle itself into backoff.
		Workers: min(asyncWorkers, cfg.MaxConcurrency),
		Logger:  s.log,
		Metrics: s.ops.async,
	}, s.inv)
	if err != nil {
		return stateOpenError(cfg.StateDir, err)
	}
	s.ops.queue.Store(s.queue)
	return nil
}

// startTargetGroups builds the target groups and starts their health
// checks. It runs after the builds, since a health check is an
// invocation, and before the balancer, which forwards to the groups.
func (s *server) startTargetGroups() error {
	var err error
	s.groups, err = targetgroup.New(s.cfg, targetgroup.Options{
		Invoker:  s.inv,
		Policies: s.policies,
		Logger:   s.log.With("component", "targetgroup"),
		Metrics:  s.ops.groups,
	})
	if err != nil {
		return err
	}
	s.health = targetgroup.StartHealthChecks(context.Background(), s.cfg, s.groups, s.inv, s.log.With("component", "health"))
	s.ops.health.Store(s.health)
	return nil
}

// startBalancer serves the listeners on the sockets bind opened, last of
// all: a request that arrives finds every function built and every group
// in place. balOpts are kept for the balancers reloads create.
func (s *server) startBalancer(accessLog io.Writer) error {
	s.balOpts = balancer.Options{Logger: s.log, BodyBudget: s.bodies, Metrics: s.ops.balancer}
	if len(s.cfg.Listeners) == 0 { // functions only: the Invoke API alone
		return nil
	}
	opts := s.balOpts
	opts.AccessLog, opts.Listeners = accessLog, s.socks.listeners
	var err error
	s.bal, err = balancer.New(s.cfg, forwarders(s.groups), opts)
	if err != nil {
		return err
	}
	s.socks.listeners = nil // the balancer's now
	return s.bal.Start()
}

// startAdmin serves the admin address, if there is one: the Lambda API
// and the operations endpoints (ops).
func (s *server) startAdmin(log *slog.Logger) error {
	if s.socks.admin == nil {
		return nil
	}
	cfg := s.cfg
	api, err := invokeapi.New(invokeapi.Options{
		Invoker:     s.inv,
		Queue:       s.queue,
		Policies:    s.policies,
		Credentials: cfg.Admin.Credentials,
		Address:     cfg.Admin.Address,
		BodyBudget:  s.bodies,
		Region:      cfg.Region,
		AccountID:   cfg.AccountID,
		Logger:      log,
		Routes:      s.ops.routes(),
		OpsToken:    cfg.Admin.OpsToken,
	})
	if err != nil {
		return err
	}
	s.adminLn = s.socks.admin
	if ap, perr := netip.ParseAddrPort(s.adminLn.Addr().String()); perr == nil && !ap.Addr().IsLoopback() && cfg.Admin.Credentials == nil {
		log.Warn("the admin listener (Lambda Invoke and policy API) is reachable beyond this machine without credentials: anyone who reaches it can invoke functions and change their policies; set admin.credentials or a loopback admin.address",
			"address", s.adminLn.Addr().String())
	}
	s.admin = api.NewServer()
	go func() { _ = s.admin.Serve(s.adminLn) }()
	return nil
}

// describe prints the listeners' addresses and the groups' ARNs.
func (s *server) describe(w io.Writer) {
	if s.bal == nil {
		fmt.Fprintln(w, "  no listeners: functions are served by the Invoke API alone")
	} else {
		for i, a := range s.bal.Addrs() {
			scheme := "http"
			if s.cfg.Listeners[i].Protocol == "HTTPS" {
				scheme = "https"
			}
			fmt.Fprintf(w, "  listener  %s://%s\n", scheme, a)
		}
	}
	if s.adminLn != nil {
		fmt.Fprintf(w, "  admin     http://%s  (Lambda Invoke API; /metrics /healthz /readyz /targetgroups)\n", s.adminLn.Addr())
	}
	fmt.Fprintf(w, "  isolation: %s\n", s.pool.Isolation())
	for _, tg := range s.cfg.TargetGroups {
		fn := tg.Function
		if f := s.cfg.FunctionByName(fn); f != nil && f.Remote() {
			fn += " (remote: " + f.ARN + ")"
		}
		fmt.Fprintf(w, "  target group %s  %s -> %s\n", tg.Name, tg.ARN, fn)
	}
}

// shutdown stops accepting, lets in-flight requests finish within ctx, then
// stops the async dispatcher and every function environment. No reload
// may run meanwhile.
func (s *server) shutdown(ctx context.Context) error {
	s.mu.Lock()
	bal, health := s.bal, s.health
	s.mu.Unlock()
	var errs []error
	if s.ops != nil {
		s.ops.setNotReady("shutting down")
	}
	if s.socks != nil {
		// Sockets not yet serving; closing the admin socket also ends an
		// admin Serve that fasthttp's shutdown would miss because it had
		// not registered the socket yet.
		s.socks.close()
	}
	if bal != nil {
		errs = append(errs, bal.Shutdown(ctx))
	}
	if s.admin != nil {
		if err := s.admin.ShutdownWithContext(ctx); !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if health != nil {
		health.Stop()
	}
	if s.queue != nil {
		errs = append(errs, s.queue.Close(ctx))
	}
	if s.pool != nil {
		errs = append(errs, s.pool.Close(ctx))
	}
	if s.inv != nil {
		s.inv.CloseIdleConnections()
	}
	if s.policies != nil {
		errs = append(errs, s.policies.Close())
	}
	return errors.Join(errs...)
}

// forwarders are the groups as the balancer takes them.
func forwarders(groups map[string]*targetgroup.Group) map[string]balancer.Forwarder {
	fw := make(map[string]balancer.Forwarder, len(groups))
	for name, g := range groups {
		fw[name] = g
	}
	return fw
}

// executorFunctions maps the config's functions to the executor's.
func executorFunctions(cfg *config.Config) []executor.Function {
	out := make([]executor.Function, 0, len(cfg.Functions))
	for _, f := range cfg.Functions {
		if f.Remote() {
			continue // invoked through the Router, not run
		}
		reserved := -1
		if f.ReservedConcurrency != nil {
			reserved = *f.ReservedConcurrency
		}
		out = append(out, executor.Function{
			Name:        f.Name,
			ARN:         f.ARN,
			Runtime:     f.Runtime,
			Handler:     f.Handler,
			Code:        f.Code,
			Layers:      f.Layers,
			Build:       f.Build,
			MemorySize:  f.MemorySize,
			Timeout:     time.Duration(f.Timeout) * time.Second,
			Reserved:    reserved,
			Environment: f.Environment,
			Region:      cfg.Region,
			CPUModel:    f.CPUModel,
		})
	}
	return out
}

// asyncConfigs maps the config's per-function async settings. A function
// whose settings are all Lambda's defaults gets no entry, so
// GetFunctionEventInvokeConfig answers 404 for it, as Lambda does for a
// function nobody configured.
func asyncConfigs(cfg *config.Config) map[string]async.Config {
	out := make(map[string]async.Config, len(cfg.Functions))
	for _, f := range cfg.Functions {
		c := async.DefaultConfig()
		if f.Async.MaximumRetryAttempts != nil {
			c.MaximumRetryAttempts = *f.Async.MaximumRetryAttempts
		}
		if f.Async.MaximumEventAge > 0 {
			c.MaximumEventAge = time.Duration(f.Async.MaximumEventAge) * time.Second
		}
		c.OnSuccess = f.Async.OnSuccess
		c.OnFailure = f.Async.OnFailure
		if c == async.DefaultConfig() {
			continue
		}
		out[f.Name] = c
	}
	return out
}

// logLines turns each line written to it into one warning record, for the
// plain-text reports (config warnings, interpreter problems) that must
// still be one JSON record per line with -log-format json.
type logLines struct{ log *slog.Logger }

func (l logLines) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line != "" {
			l.log.Warn(line)
		}
	}
	return len(p), nil
}

// reloadFile is the file a reload reads: the one serve started from. A
// start that found ./albedo.yaml reloads that file, and refuses the
// reload while it is missing (an editor's delete-then-write, a git
// checkout) instead of falling back to the embedded default; a start on
// the embedded default keeps looking for ./albedo.yaml.
func reloadFile(given string, cfg *config.Config) string {
	if given == "" && cfg.File != "" {
		return cfg.File
	}
	return given
}
