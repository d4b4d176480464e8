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
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/balancer"
	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup"
	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/async"
	"github.com/albedo-lb/albedo/targetgroup/executor/invokeapi"
	"github.com/albedo-lb/albedo/targetgroup/executor/policy"
)

// shutdownGrace is how long in-flight requests may take to finish after
// SIGINT/SIGTERM.
const shutdownGrace = 30 * time.Second

// asyncWorkers caps concurrent asynchronous deliveries.
const asyncWorkers = 64

// runServe is `albedo serve [-config FILE | FILE] [-access-log FILE|-]`.
func runServe(args []string, stdout, stderr io.Writer) int {
	return serve(context.Background(), args, stdout, stderr)
}

// serve runs albedo until ctx is done or a signal arrives. It is separate
// from runServe so tests can run the real server in-process.
func serve(parent context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", "albedo serve [-config FILE | FILE] [-access-log FILE|-]",
		"Serve the config FILE (the same as -config FILE), else ./albedo.yaml, else the embedded\n"+
			"default, until SIGINT or SIGTERM. Every listener and the admin address are bound\n"+
			"before anything else starts. Exit status: 0 after a signal, 1 if start-up fails,\n"+
			"2 for an invalid configuration or bad usage.")
	path := fs.String("config", "", "config file [./albedo.yaml if present, else the embedded default]")
	accessLog := fs.String("access-log", "", "write ALB access-log lines (one per request, with error_reason) to this file; - = stdout")
	file, code, ok := fs.parseConfig(args, path, stdout, stderr)
	if !ok {
		return code
	}
	cfg, source, err := loadConfig(file)
	if err != nil {
		printConfigError(stderr, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()

	var alog io.Writer
	switch *accessLog {
	case "":
	case "-":
		alog = stdout
	default:
		f, err := os.OpenFile(*accessLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "albedo: access log: %v\n", err)
			return 1
		}
		defer f.Close()
		alog = f
	}
	s, err := start(ctx, cfg, log, stderr, alog)
	if err != nil {
		if ctx.Err() != nil && parent.Err() == nil {
			fmt.Fprintln(stderr, "albedo: interrupted during start-up")
			return 1
		}
		for _, e := range unwrapAll(err) {
			fmt.Fprintf(stderr, "albedo: %v\n", e)
		}
		return 1
	}
	fmt.Fprintf(stdout, "albedo %s serving %s\n", version, source)
	s.describe(stdout)

	<-ctx.Done()
	// From here a second SIGINT/SIGTERM gets Go's default action and ends
	// the process at once (function processes die with it: Pdeathsig).
	stop()
	fmt.Fprintln(stdout, "albedo: shutting down (again to force)")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := s.shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "albedo: shutdown: %v\n", err)
		return 1
	}
	return 0
}

// server is everything `albedo serve` runs.
type server struct {
	cfg      *config.Config
	pool     *executor.Pool
	policies *policy.Store
	queue    *async.Queue
	groups   map[string]*targetgroup.Group
	health   *targetgroup.HealthChecker
	socks    *sockets
	bal      *balancer.Balancer // nil without listeners
	admin    *fasthttp.Server
	adminLn  net.Listener
}

// start binds every socket (bind), then builds and starts every part; on
// error it stops what it started. Without listeners there is no balancer:
// the functions are served by the Invoke API alone.
func start(ctx context.Context, cfg *config.Config, log *slog.Logger, functionLog, accessLog io.Writer) (_ *server, err error) {
	s := &server{cfg: cfg}
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = s.shutdown(sctx)
		}
	}()
	// Every socket first: a busy port must end start-up before a function
	// is built or a state file opened.
	s.socks, err = bind(cfg)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable for builtin functions: %w", err)
	}
	// State next, before any build: a damaged or locked state file ends
	// start-up at once rather than after a long build. Before the pool
	// too: holding the state_dir's lock makes its cgroups this albedo's,
	// so the pool may end what a killed predecessor left in them.
	s.policies, err = policy.Open(cfg.StateDir, cfg.Region, cfg.AccountID, cfg.Functions)
	if err != nil {
		return nil, stateOpenError(cfg.StateDir, err)
	}
	stateDir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	s.pool, err = executor.New(executor.Options{
		MaxConcurrency: cfg.MaxConcurrency,
		IdleTimeout:    cfg.IdleTimeout.Duration,
		MemoryBudget:   cfg.MemoryBudget,
		BuiltinCommand: []string{self, builtinSubcommand},
		CgroupName:     executor.CgroupNameFor(stateDir),
		Logger:         log,
		FunctionLog:    functionLog,
		// Lines name their function: every function logs to one terminal.
		PrefixFunctionLog: true,
	}, executorFunctions(cfg))
	if err != nil {
		return nil, err
	}
	s.queue, err = async.Open(async.Options{
		Dir:     cfg.StateDir,
		Configs: asyncConfigs(cfg),
		// Never more deliveries at once than environments may exist, so
		// the dispatcher does not throttle itself into backoff.
		Workers: min(asyncWorkers, cfg.MaxConcurrency),
		Logger:  log,
	}, s.pool)
	if err != nil {
		return nil, stateOpenError(cfg.StateDir, err)
	}
	if err := s.pool.Prepare(ctx); err != nil {
		return nil, err
	}
	s.queue.Start()
	s.groups, err = targetgroup.New(cfg, targetgroup.Options{
		Invoker:  s.pool,
		Policies: s.policies,
		Logger:   log.With("component", "targetgroup"),
	})
	if err != nil {
		return nil, err
	}
	s.health = targetgroup.StartHealthChecks(context.Background(), cfg, s.groups, s.pool, log.With("component", "health"))
	if len(cfg.Listeners) > 0 { // else functions only: the Invoke API alone
		fw := make(map[string]balancer.Forwarder, len(s.groups))
		for name, g := range s.groups {
			fw[name] = g
		}
		s.bal, err = balancer.New(cfg, fw, balancer.Options{Logger: log, AccessLog: accessLog, Listeners: s.socks.listeners})
		if err != nil {
			return nil, err
		}
		s.socks.listeners = nil // the balancer's now
		if err := s.bal.Start(); err != nil {
			return nil, err
		}
	}
	if s.socks.admin != nil {
		api, err := invokeapi.New(invokeapi.Options{
			Invoker:     s.pool,
			Queue:       s.queue,
			Policies:    s.policies,
			Credentials: cfg.Admin.Credentials,
			Region:      cfg.Region,
			AccountID:   cfg.AccountID,
			Logger:      log,
		})
		if err != nil {
			return nil, err
		}
		s.adminLn = s.socks.admin
		if ap, perr := netip.ParseAddrPort(s.adminLn.Addr().String()); perr == nil && !ap.Addr().IsLoopback() && cfg.Admin.Credentials == nil {
			log.Warn("the admin listener (Lambda Invoke and policy API) is reachable beyond this machine without credentials: anyone who reaches it can invoke functions and change their policies; set admin.credentials or a loopback admin.address",
				"address", s.adminLn.Addr().String())
		}
		s.admin = &fasthttp.Server{
			Handler:            api.Handle,
			Name:               "albedo",
			ReadTimeout:        time.Minute,
			WriteTimeout:       20 * time.Minute,
			IdleTimeout:        2 * time.Minute,
			MaxRequestBodySize: invokeapi.MaxRequestBodySize,
			ReadBufferSize:     invokeapi.ReadBufferSize,
		}
		go func() { _ = s.admin.Serve(s.adminLn) }()
	}
	return s, nil
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
		fmt.Fprintf(w, "  admin     http://%s  (Lambda Invoke API)\n", s.adminLn.Addr())
	}
	fmt.Fprintf(w, "  isolation: %s\n", s.pool.Isolation())
	for _, tg := range s.cfg.TargetGroups {
		fmt.Fprintf(w, "  target group %s  %s -> %s\n", tg.Name, tg.ARN, tg.Function)
	}
}

// shutdown stops accepting, lets in-flight requests finish within ctx, then
// stops the async dispatcher and every function environment.
func (s *server) shutdown(ctx context.Context) error {
	var errs []error
	if s.socks != nil {
		// Sockets not yet serving; closing the admin socket also ends an
		// admin Serve that fasthttp's shutdown would miss because it had
		// not registered the socket yet.
		s.socks.close()
	}
	if s.bal != nil {
		errs = append(errs, s.bal.Shutdown(ctx))
	}
	if s.admin != nil {
		if err := s.admin.ShutdownWithContext(ctx); !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if s.health != nil {
		s.health.Stop()
	}
	if s.queue != nil {
		errs = append(errs, s.queue.Close(ctx))
	}
	if s.pool != nil {
		errs = append(errs, s.pool.Close(ctx))
	}
	if s.policies != nil {
		errs = append(errs, s.policies.Close())
	}
	return errors.Join(errs...)
}

// executorFunctions maps the config's functions to the executor's.
func executorFunctions(cfg *config.Config) []executor.Function {
	out := make([]executor.Function, 0, len(cfg.Functions))
	for _, f := range cfg.Functions {
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
