package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/remote"
)

// defaultConfigFile is what validate (and serve) read without -config.
const defaultConfigFile = "albedo.yaml"

// loadConfig loads path, or when path is "" ./albedo.yaml if it exists and
// the embedded default otherwise. source says which one was used.
func loadConfig(path string) (cfg *config.Config, source string, err error) {
	if path == "" {
		if _, statErr := os.Stat(defaultConfigFile); statErr != nil {
			return config.Default(), "embedded default (no ./" + defaultConfigFile + ")", nil
		}
		path = defaultConfigFile
	}
	cfg, err = config.Load(path)
	return cfg, path, err
}

// printConfigError writes err to w, one problem per line.
func printConfigError(w io.Writer, err error) {
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(w, e)
		}
		return
	}
	fmt.Fprintln(w, "albedo:", err)
}

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("validate", "albedo validate [-config FILE | FILE]",
		"Check a configuration the way AWS would and print a summary: FILE (the same as\n"+
			"-config FILE), else ./albedo.yaml, else the embedded default. Every problem is\n"+
			"printed as file:line:col: path: message. Exit status: 0 valid, 2 invalid or bad\n"+
			"usage, 1 when the file cannot be read.")
	path := fs.String("config", "", "configuration file (default ./albedo.yaml, or the embedded default if it does not exist)")
	file, code, ok := fs.parseConfig(args, path, stdout, stderr)
	if !ok {
		return code
	}
	cfg, source, err := loadConfig(file)
	if err != nil {
		printConfigError(stderr, err)
		if errors.Is(err, config.ErrInvalid) {
			return 2
		}
		return 1
	}
	if code := reportRuntimes(stderr, cfg); code != 0 {
		return code
	}
	if code := checkRemotePolicies(cfg, stderr); code != 0 {
		return code
	}
	printSummary(stdout, cfg, source)
	warnCPUModel(stderr, cfg, executor.CPUQuotaSupport)
	return 0
}

// checkRemotePolicies reads the policies of functions with policy_source:
// aws and checks them as serve does at start: 2 when AWS would refuse a
// target, 1 when a policy cannot be read.
func checkRemotePolicies(cfg *config.Config, stderr io.Writer) int {
	var fns []remote.Function
	for _, fn := range remote.Functions(cfg) {
		if fn.PolicyFromService {
			fns = append(fns, fn)
		}
	}
	if len(fns) == 0 {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clients, err := remote.New(ctx, fns, remote.Options{})
	if err == nil {
		err = readPolicies(ctx, cfg, clients, slog.New(slog.NewTextHandler(stderr, nil)))
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, config.ErrInvalid):
		printConfigError(stderr, err)
		return 2
	}
	fmt.Fprintln(stderr, "albedo: cannot check the invoke permission:", err)
	return 1
}

// reportRuntimes prints the config's warnings and its interpreters'
// problems (a missing interpreter, an older or newer version than its
// runtime), positioned in the file; an error makes it return 2.
func reportRuntimes(w io.Writer, cfg *config.Config) int {
	_, errs, warns := checkRuntimes(cfg)
	printProblems(w, cfg.Warnings)
	printProblems(w, warns)
	if len(errs) > 0 {
		printProblems(w, errs)
		return 2
	}
	return 0
}

// warnCPUModel warns, on one line, when functions ask for cpu_model aws
// and this machine cannot honour it (support says why): albedo would serve
// them with the host's CPU.
func warnCPUModel(w io.Writer, c *config.Config, support func() error) {
	var names []string
	for _, f := range c.Functions {
		if f.CPUModel == "aws" {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		return
	}
	if err := support(); err != nil {
		fmt.Fprintf(w, "warning: cpu_model aws cannot be honoured on this machine (%v): %s would get the host's CPU\n",
			err, strings.Join(names, ", "))
	}
}

// printSummary writes a readable overview of cfg.
func printSummary(w io.Writer, c *config.Config, source string) {
	fmt.Fprintf(w, "config: %s\n", source)
	fmt.Fprintf(w, "load balancer: %s (%s), region %s, account %s\n", c.LoadBalancer, config.LoadBalancerName(c.LoadBalancer), c.Region, c.AccountID)
	switch {
	case c.Admin.Address == "":
		fmt.Fprintln(w, "admin: disabled")
	case c.Admin.Credentials != nil:
		fmt.Fprintf(w, "admin: %s (SigV4 signed requests only)\n", c.Admin.Address)
	default:
		fmt.Fprintf(w, "admin: %s\n", c.Admin.Address)
	}
	budget := "machine RAM"
	if c.MemoryBudget > 0 {
		budget = strconv.Itoa(c.MemoryBudget) + " MB"
	}
	fmt.Fprintf(w, "limits: max_concurrency %d, idle_timeout %s, memory_budget %s, body_memory_budget %d MB, cpu_model %s\n",
		c.MaxConcurrency, c.IdleTimeout, budget, c.BodyMemoryBudget, c.CPUModel)
	fmt.Fprintf(w, "state_dir: %s\n", c.StateDir)
	if c.AccessLog != nil {
		fmt.Fprintf(w, "access_log: %s\n", c.AccessLog.Path)
	}

	for _, l := range c.Listeners {
		printListener(w, l)
	}
	for _, g := range c.TargetGroups {
		printTargetGroup(w, c, g)
	}
	for _, f := range c.Functions {
		fmt.Fprintf(w, "\nfunction %s\n", f.Name)
		fmt.Fprintf(w, "  arn       %s\n", f.ARN)
		if f.Remote() {
			printRemote(w, f)
		} else {
			printLocal(w, c, f)
		}
	}
	fmt.Fprintf(w, "\nok: %d listener%s, %d target group%s, %d function%s\n",
		len(c.Listeners), plural(len(c.Listeners)), len(c.TargetGroups), plural(len(c.TargetGroups)), len(c.Functions), plural(len(c.Functions)))
}

// printListener writes a listener and its rules in priority order.
func printListener(w io.Writer, l config.Listener) {
	addr := l.Address
	if addr == "" {
		addr = "*"
	}
	fmt.Fprintf(w, "\nlistener %s %s:%d", l.Protocol, addr, l.Port)
	if n := len(l.Certificates); n > 0 {
		fmt.Fprintf(w, " (%d certificate%s)", n, plural(n))
	}
	fmt.Fprintln(w)
	rules := slices.Clone(l.Rules)
	slices.SortFunc(rules, func(a, b config.Rule) int { return a.Priority - b.Priority })
	for _, r := range rules {
		fmt.Fprintf(w, "  rule %d\n", r.Priority)
		fmt.Fprintf(w, "    if   %s\n", conditionsString(r.Conditions))
		fmt.Fprintf(w, "    then %s\n", actionString(r.Action))
	}
	fmt.Fprintln(w, "  default")
	fmt.Fprintf(w, "    then %s\n", actionString(l.DefaultAction))
}

// printTargetGroup writes a target group: its ARN, function and options.
func printTargetGroup(w io.Writer, c *config.Config, g config.TargetGroup) {
	fmt.Fprintf(w, "\ntarget group %s\n", g.Name)
	fmt.Fprintf(w, "  arn       %s\n", g.ARN)
	if f := c.FunctionByName(g.Function); f != nil && f.Remote() {
		fmt.Fprintf(w, "  function  %s (remote: %s)\n", g.Function, f.ARN)
	} else {
		fmt.Fprintf(w, "  function  %s\n", g.Function)
	}
	hc := "off"
	if h := g.HealthCheck; h.Enabled {
		hc = fmt.Sprintf("%s every %ds, timeout %ds, healthy %d, unhealthy %d, matcher %s",
			h.Path, h.Interval, h.Timeout, h.HealthyThreshold, h.UnhealthyThreshold, h.Matcher)
	}
	fmt.Fprintf(w, "  options   multi_value_headers %t, health_check %s\n", g.MultiValueHeaders, hc)
}

// printLocal writes the lines of a local function after its name and ARN:
// runtime, interpreter, layers, limits and async settings.
func printLocal(w io.Writer, c *config.Config, f config.Function) {
	rt := f.Runtime + ", handler " + f.Handler
	if f.Code != "" {
		rt += ", code " + f.Code
	}
	if len(f.Build) > 0 {
		rt += ", build: " + strings.Join(f.Build, " ")
	}
	fmt.Fprintf(w, "  runtime   %s\n", rt)
	if isManagedRuntime(f.Runtime) {
		if in, err := executor.ProbeInterpreter(f.Runtime, c.Runtimes[f.Runtime]); err == nil {
			fmt.Fprintf(w, "  interpreter %s (%s)\n", in.Exec, in.Version)
		}
	}
	for _, l := range f.Layers {
		fmt.Fprintf(w, "  layer     %s\n", l)
	}
	res := "unreserved"
	if f.ReservedConcurrency != nil {
		res = "reserved_concurrency " + strconv.Itoa(*f.ReservedConcurrency)
	}
	fmt.Fprintf(w, "  limits    memory %d MB, cpu %s, timeout %ds, %s, %d env var%s, %d policy statement%s\n",
		f.MemorySize, f.CPUModel, f.Timeout, res, len(f.Environment), plural(len(f.Environment)), len(f.Policy), plural(len(f.Policy)))
	if a := f.Async; a.OnSuccess != "" || a.OnFailure != "" {
		fmt.Fprintf(w, "  async     retries %d, max age %ds, on_success %s, on_failure %s\n",
			*a.MaximumRetryAttempts, a.MaximumEventAge, orNone(a.OnSuccess), orNone(a.OnFailure))
	}
}

// printRemote writes the lines of a remote function.
func printRemote(w io.Writer, f config.Function) {
	if f.RemoteARN != "" {
		fmt.Fprintln(w, "  remote    AWS Lambda, the AWS SDK's default credentials")
	} else {
		auth := "unsigned"
		if f.Credentials != nil {
			auth = "SigV4-signed as " + f.Credentials.AccessKeyID
		}
		fmt.Fprintf(w, "  remote    endpoint %s, function_name %s, %s\n", f.Endpoint, f.FunctionName, auth)
	}
	pol := strconv.Itoa(len(f.Policy)) + " policy statement" + plural(len(f.Policy))
	if f.PolicySource == config.PolicySourceAWS {
		pol += " read from the Lambda service (policy_source: aws)"
	}
	fmt.Fprintf(w, "  limits    timeout %ds (albedo's deadline for the call), %s\n", f.Timeout, pol)
	if a := f.Async; a.OnSuccess != "" || a.OnFailure != "" {
		fmt.Fprintf(w, "  async     retries %d, max age %ds, on_success %s, on_failure %s\n",
			*a.MaximumRetryAttempts, a.MaximumEventAge, orNone(a.OnSuccess), orNone(a.OnFailure))
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// conditionsString renders a rule's conditions: values OR'ed with "|",
// conditions AND'ed.
func conditionsString(conds []config.Condition) string {
	parts := make([]string, 0, len(conds))
	for _, c := range conds {
		switch {
		case len(c.PathPattern) > 0:
			parts = append(parts, "path_pattern "+strings.Join(c.PathPattern, " | "))
		case len(c.HostHeader) > 0:
			parts = append(parts, "host_header "+strings.Join(c.HostHeader, " | "))
		case c.HTTPHeader != nil:
			parts = append(parts, "http_header "+c.HTTPHeader.Name+": "+strings.Join(c.HTTPHeader.Values, " | "))
		case len(c.HTTPRequestMethod) > 0:
			parts = append(parts, "http_request_method "+strings.Join(c.HTTPRequestMethod, " | "))
		case len(c.QueryString) > 0:
			qs := make([]string, len(c.QueryString))
			for i, q := range c.QueryString {
				qs[i] = q.Value
				if q.Key != "" {
					qs[i] = q.Key + "=" + q.Value
				}
			}
			parts = append(parts, "query_string "+strings.Join(qs, " | "))
		case len(c.SourceIP) > 0:
			parts = append(parts, "source_ip "+strings.Join(c.SourceIP, " | "))
		}
	}
	return strings.Join(parts, " AND ")
}

// actionString renders an action on one line.
func actionString(a *config.Action) string {
	switch {
	case a == nil:
		return "-"
	case a.Forward != nil:
		f := a.Forward
		gs := make([]string, len(f.TargetGroups))
		for i, g := range f.TargetGroups {
			gs[i] = g.Name
			if len(f.TargetGroups) > 1 {
				gs[i] += " (weight " + strconv.Itoa(*g.Weight) + ")"
			}
		}
		s := "forward " + strings.Join(gs, ", ")
		if st := f.Stickiness; st != nil && st.Enabled {
			s += fmt.Sprintf(", sticky %ds", st.Duration)
		}
		return s
	case a.Redirect != nil:
		r := a.Redirect
		u := r.Protocol + "://" + r.Host + ":" + r.Port + r.Path
		if r.Query != "" {
			u += "?" + r.Query
		}
		return "redirect " + r.StatusCode + " " + u
	case a.FixedResponse != nil:
		f := a.FixedResponse
		s := "fixed_response " + strconv.Itoa(f.StatusCode)
		if f.ContentType != "" {
			s += " " + f.ContentType
		}
		if body := f.MessageBody; body != "" {
			if r := []rune(body); len(r) > 40 {
				body = string(r[:40]) + "…"
			}
			s += " " + strconv.Quote(body)
		}
		return s
	}
	return "-"
}
