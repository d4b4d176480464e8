package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

var (
	sidRE        = lazyRegexp(`^[A-Za-z0-9_-]{1,100}$`)
	policyActRE  = lazyRegexp(`^(lambda:[*]|lambda:[a-zA-Z]+|[*])$`)
	matcherRE    = lazyRegexp(`^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$`)
	runtimeNames = "provided.al2023, provided.al2, provided, builtin, nodejsN.x (e.g. nodejs22.x), python3.N (e.g. python3.13)"
)

// Builtins are the handlers of runtime "builtin".
var Builtins = []string{"echo", "noop"}

func (v *validator) targetGroups() {
	c := v.cfg
	for i := range c.TargetGroups {
		g := &c.TargetGroups[i]
		p := indexPath("target_groups", i)
		v.uniqueID(p+".name", g.Name, elbNameRE(), "invalid name %q: 1-32 letters, digits and hyphens, not starting or ending with a hyphen",
			"target_groups", i, func(j int) string { return c.TargetGroups[j].Name })
		g.ARN = TargetGroupARN(c.Region, c.AccountID, c.LoadBalancer, g.Name)
		if g.TargetType != "lambda" {
			v.errorf(p+".target_type", "must be lambda (the only target type albedo serves), got %q", g.TargetType)
		}
		v.healthCheck(&g.HealthCheck, p+".health_check")
		if len(g.Targets) != 1 {
			v.errorf(p+".targets", "a Lambda target group takes exactly one target, a function name or ARN (AWS quota), got %d", len(g.Targets))
			continue
		}
		tp := p + ".targets[0]"
		fi := v.functionRef(tp, g.Targets[0], "target")
		if fi < 0 {
			continue
		}
		fn := &c.Functions[fi]
		g.Function = fn.Name
		if fn.PolicySource == PolicySourceAWS {
			continue // its statements are read at start: CheckPolicies
		}
		if !Allows(fn.Policy, ELBPrincipal, InvokeAction, g.ARN, c.AccountID) {
			v.errorf(tp, "%s; add to functions[%d].policy: %s", PermissionError(functionARN(c, fn), g.ARN), fi, SuggestedStatement(*g, *fn, c))
		}
	}
}

// functionRef resolves a function name, an unqualified function ARN of
// this config's region and account, or a remote function's own ARN to an
// index in Functions, reporting why not (and returning -1) when it can't.
func (v *validator) functionRef(p, ref, what string) int {
	c := v.cfg
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		if fi := c.remoteIndex(ref); fi >= 0 {
			return fi
		}
		region, account, n, qualifier, ok := splitFunctionARN(ref)
		switch {
		case !ok:
			v.errorf(p, "%q is not a Lambda function ARN", ref)
			return -1
		case qualifier != "":
			v.errorf(p, "qualified function ARNs (versions, aliases) are not supported yet: use %s", FunctionARN(region, account, n))
			return -1
		case region != c.Region || account != c.AccountID:
			v.errorf(p, "function ARN %q is not in this config's region %s and account %s", ref, c.Region, c.AccountID)
			return -1
		}
		name = n
	}
	if name == "" {
		v.errorf(p, "%s can't be empty", what)
		return -1
	}
	fi := c.functionIndex(name)
	if fi < 0 {
		v.errorf(p, "function %q is not defined in functions", name)
	}
	return fi
}

func (v *validator) healthCheck(h *HealthCheck, p string) {
	if !strings.HasPrefix(h.Path, "/") || len(h.Path) > 1024 {
		v.errorf(p+".path", "must start with \"/\" and be at most 1024 characters, got %q", h.Path)
	}
	iv := v.intRange(p+".interval", h.Interval, 5, 300)
	if v.intRange(p+".timeout", h.Timeout, 2, 120) && iv && h.Timeout >= h.Interval {
		v.errorf(p+".timeout", "must be less than interval (%d), got %d", h.Interval, h.Timeout)
	}
	v.intRange(p+".healthy_threshold", h.HealthyThreshold, 2, 10)
	v.intRange(p+".unhealthy_threshold", h.UnhealthyThreshold, 2, 10)
	if !matcherRE().MatchString(h.Matcher) {
		v.errorf(p+".matcher", "invalid matcher %q: want codes such as \"200\", \"200,202\" or \"200-299\"", h.Matcher)
		return
	}
	for _, part := range strings.Split(h.Matcher, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if isRange {
			b, _ = strconv.Atoi(hi)
		}
		if a < 200 || b > 499 || a > b {
			v.errorf(p+".matcher", "codes must be 200-499 (ranges low-high), got %q", part)
			return
		}
	}
}

func (v *validator) functions() {
	c := v.cfg
	for i := range c.Functions {
		f := &c.Functions[i]
		p := indexPath("functions", i)
		v.uniqueID(p+".name", f.Name, funcNameRE(), "invalid name %q: 1-64 letters, digits, hyphens and underscores",
			"functions", i, func(j int) string { return c.Functions[j].Name })
		f.ARN = functionARN(c, f)
		v.intRange(p+".timeout", f.Timeout, 1, 900)
		if !v.remoteFunction(f, p) {
			v.runtime(f, p)
			v.intRange(p+".memory_size", f.MemorySize, 128, 10240)
			if r := f.ReservedConcurrency; r != nil && (*r < 0 || *r > c.MaxConcurrency) {
				v.errorf(p+".reserved_concurrency", "must be 0-%d (max_concurrency), got %d", c.MaxConcurrency, *r)
			}
			v.environment(f.Environment, p+".environment")
			if v.d.isSet(p + ".cpu_model") { // else inherited, checked at the top
				v.cpuModel(p+".cpu_model", f.CPUModel)
			}
		}
		v.policy(f.Policy, p+".policy")
		v.async(&f.Async, p+".async")
	}
}

// CPU models of cpu_model.
var cpuModels = []string{"host", "aws"}

func (v *validator) cpuModel(p, m string) {
	if !slices.Contains(cpuModels, m) {
		v.errorf(p, "must be host (the machine's CPU) or aws (memory_size/1769 of one CPU, as on Lambda), got %q", m)
	}
}

func (v *validator) runtime(f *Function, p string) {
	switch f.Runtime {
	case "":
		v.errorf(p+".runtime", "required: one of %s (or arn, or endpoint, for a function albedo invokes remotely)", runtimeNames)
	case "builtin":
		ok := false
		for _, b := range Builtins {
			ok = ok || f.Handler == b
		}
		if !ok {
			v.errorf(p+".handler", "unknown builtin handler %q (available: %s)", f.Handler, strings.Join(Builtins, ", "))
		}
		if f.Code != "" {
			v.errorf(p+".code", "builtin functions take no code")
		}
		if len(f.Build) > 0 {
			v.errorf(p+".build", "builtin functions take no build command")
		}
		if len(f.Layers) > 0 {
			v.errorf(p+".layers", "builtin functions take no layers")
		}
	case "provided.al2023", "provided.al2", "provided":
		v.code(f, p)
		v.layers(f, p)
	default:
		lang := managedRuntime(f.Runtime)
		if lang == "" {
			v.errorf(p+".runtime", "unsupported runtime %q (supported: %s)", f.Runtime, runtimeNames)
			return
		}
		v.managed(f, p, lang)
		v.layers(f, p)
	}
}

// code checks a provided* function's code directory and handler. The
// handler must exist unless a build command will produce it (validation
// never runs builds).
func (v *validator) code(f *Function, p string) {
	dir, ok := v.codeDir(f, p)
	if !ok {
		return
	}
	h := f.Handler
	if h == "" || filepath.IsAbs(h) || !filepath.IsLocal(h) {
		v.errorf(p+".handler", "must name a file inside code, got %q", h)
		return
	}
	if len(f.Build) > 0 {
		return
	}
	st, err := os.Stat(filepath.Join(dir, h))
	switch {
	case err != nil:
		v.errorf(p+".handler", "%q not found in %q: build it first or set build", h, f.Code)
	case st.IsDir():
		v.errorf(p+".handler", "%q in %q is a directory, not an executable", h, f.Code)
	}
}

// codeDir checks a function's build command and code directory, and
// returns the directory resolved.
func (v *validator) codeDir(f *Function, p string) (string, bool) {
	if len(f.Build) > 0 && f.Build[0] == "" {
		v.errorf(p+".build[0]", "the command can't be empty")
	}
	if f.Code == "" {
		v.errorf(p+".code", "required: the directory holding the function")
		return "", false
	}
	dir := v.resolve(f.Code)
	return dir, v.isDir(p+".code", f.Code, dir)
}

// isDir reports whether dir (written as written) is an existing
// directory, recording why not at path.
func (v *validator) isDir(path, written, dir string) bool {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.errorf(path, "directory %q does not exist", written)
	case err != nil:
		v.errorf(path, "cannot read %q: %s", written, errorReason(err))
	case !st.IsDir():
		v.errorf(path, "%q is not a directory", written)
	default:
		return true
	}
	return false
}

func (v *validator) environment(env map[string]string, p string) {
	keys := make([]string, 0, len(env))
	size := 0
	for k, val := range env {
		keys = append(keys, k)
		size += len(k) + len(val)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kp := p + "." + k
		switch {
		case !envKeyRE().MatchString(k):
			v.errorf(kp, "invalid variable name %q: want a letter, then letters, digits and underscores", k)
		case IsReservedEnv(k):
			v.errorf(kp, "%s is reserved by the Lambda runtime environment", k)
		}
	}
	if size > maxEnvironmentSize {
		v.errorf(p, "environment variables total %d bytes; Lambda allows 4 KB (%d)", size, maxEnvironmentSize)
	}
}

// uniqueID checks the identifier id (a name, a sid) of the i-th item of a
// list, at path p: required, matching re (else the message invalid, with
// id for its %q), and not the identifier of an earlier item, which
// earlier(j) returns; list names the list in that message.
func (v *validator) uniqueID(p, id string, re *regexp.Regexp, invalid, list string, i int, earlier func(j int) string) {
	switch {
	case id == "":
		v.errorf(p, "required")
	case !re.MatchString(id):
		v.errorf(p, invalid, id)
	default:
		for j := range i {
			if earlier(j) == id {
				v.errorf(p, "%q is already used by %s[%d]", id, list, j)
				return
			}
		}
	}
}

func (v *validator) policy(stmts []Statement, p string) {
	for i := range stmts {
		s := &stmts[i]
		sp := indexPath(p, i)
		v.uniqueID(sp+".sid", s.Sid, sidRE(), "invalid sid %q: 1-100 letters, digits, hyphens and underscores",
			"policy", i, func(j int) string { return stmts[j].Sid })
		if s.Principal == "" || strings.ContainsAny(s.Principal, " \t\r\n") {
			v.errorf(sp+".principal", "required: a service principal such as %s", ELBPrincipal)
		}
		switch {
		case s.Action == "":
			v.errorf(sp+".action", "required: %s, lambda:* or *", InvokeAction)
		case !policyActRE().MatchString(s.Action):
			v.errorf(sp+".action", "invalid action %q: want lambda:<Action>, lambda:* or *", s.Action)
		}
		if s.SourceAccount != "" && !accountRE().MatchString(s.SourceAccount) {
			v.errorf(sp+".source_account", "must be 12 digits, got %q", s.SourceAccount)
		}
		if strings.ContainsAny(s.SourceARN, " \t\r\n") {
			v.errorf(sp+".source_arn", "must not contain white space, got %q", s.SourceARN)
		}
	}
}

func (v *validator) async(a *Async, p string) {
	if a.MaximumRetryAttempts != nil {
		v.intRange(p+".maximum_retry_attempts", *a.MaximumRetryAttempts, 0, 2)
	}
	v.intRange(p+".maximum_event_age", a.MaximumEventAge, 60, 21600)
	v.destination(p+".on_success", a.OnSuccess)
	v.destination(p+".on_failure", a.OnFailure)
}

func (v *validator) destination(p, dest string) {
	if dest == "" {
		return
	}
	if path, ok := strings.CutPrefix(dest, "file://"); ok {
		if path == "" {
			v.errorf(p, "file:// destination needs a path")
		}
		return
	}
	v.functionRef(p, dest, "destination")
}
