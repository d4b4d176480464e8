package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// validator checks a defaulted Config and appends its findings to the
// decoder's error list, positioned at the field they are about.
type validator struct {
	cfg *Config
	d   *decoder
	dir string // config file directory, for relative paths
}

var (
	regionRE   = lazyRegexp(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountRE  = lazyRegexp(`^[0-9]{12}$`)
	elbNameRE  = lazyRegexp(`^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$`)
	funcNameRE = lazyRegexp(`^[A-Za-z0-9_-]{1,64}$`)
)

// errorf records a validation problem at path unless path (or a parent of
// it) already failed to decode: one mistake, one message.
func (v *validator) errorf(path, format string, args ...any) {
	for p := path; ; p = parentPath(p) {
		if v.d.bad[p] {
			return
		}
		if p == "" {
			break
		}
	}
	line, col := v.at(path)
	v.d.errs = append(v.d.errs, &Error{File: v.d.file, Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// warnf records a problem that does not make the configuration invalid.
func (v *validator) warnf(path, format string, args ...any) {
	line, col := v.at(path)
	v.d.warns = append(v.d.warns, &Error{File: v.d.file, Line: line, Column: col, Path: path, Msg: "warning: " + fmt.Sprintf(format, args...)})
}

// at is the position of path, or of its nearest written ancestor; the
// document's start when nothing is written (an empty document).
func (v *validator) at(path string) (line, col int) {
	for p := path; ; p = parentPath(p) {
		if pos, ok := v.d.pos[p]; ok {
			return pos.line, pos.col
		}
		if p == "" {
			return 1, 1
		}
	}
}

// parentPath strips the last ".key" or "[i]" from path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func (v *validator) intRange(path string, val, lo, hi int) bool {
	if val < lo || val > hi {
		v.errorf(path, "must be %d-%d, got %d", lo, hi, val)
		return false
	}
	return true
}

func (v *validator) validate() {
	c := v.cfg
	if !regionRE().MatchString(c.Region) {
		v.errorf("region", "invalid region %q: want a name such as us-east-1", c.Region)
	}
	if !accountRE().MatchString(c.AccountID) {
		v.errorf("account_id", "must be 12 digits, got %q (quote it so YAML keeps it a string)", c.AccountID)
	}
	switch {
	case !elbNameRE().MatchString(c.LoadBalancer):
		v.errorf("load_balancer", "invalid name %q: 1-32 letters, digits and hyphens, not starting or ending with a hyphen", c.LoadBalancer)
	case strings.HasPrefix(strings.ToLower(c.LoadBalancer), "internal-"):
		v.errorf("load_balancer", "name %q must not begin with \"internal-\"", c.LoadBalancer)
	}
	v.admin()
	v.accessLog()
	if v.d.isSet("max_concurrency") {
		v.intRange("max_concurrency", c.MaxConcurrency, 1, 100000)
	}
	if d := c.IdleTimeout.Duration; d < time.Second || d > 24*time.Hour {
		v.errorf("idle_timeout", "must be 1s-24h, got %s", d)
	}
	if c.MemoryBudget != 0 && c.MemoryBudget < 128 {
		v.errorf("memory_budget", "must be 0 (the machine's RAM) or at least 128 MB, got %d", c.MemoryBudget)
	}
	if v.d.isSet("body_memory_budget") {
		v.intRange("body_memory_budget", c.BodyMemoryBudget, 16, 65536)
	}
	v.cpuModel("cpu_model", c.CPUModel)
	switch {
	case len(c.Listeners) == 0 && len(c.Functions) == 0:
		v.errorf("", "nothing to serve: define at least one listener or function")
	case len(c.Listeners) == 0 && c.Admin.Address == "":
		// Functions only: the Invoke API on the admin address is their
		// one way in, and "" turned it off.
		v.errorf("admin.address", `"" disables the Invoke API, and there are no listeners: nothing would be served; set admin.address (default 127.0.0.1:9001) or add a listener`)
	}
	v.runtimes()
	v.logAndPricing()
	v.listeners()
	v.targetGroups()
	v.functions()
}

// logAndPricing checks the log: and pricing: settings.
func (v *validator) logAndPricing() {
	switch v.cfg.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.errorf("log.level", "must be debug, info, warn or error, got %q", v.cfg.Log.Level)
	}
	switch v.cfg.Log.Format {
	case "text", "json":
	default:
		v.errorf("log.format", "must be text or json, got %q", v.cfg.Log.Format)
	}
	if p := v.cfg.Pricing.RequestUSDPerMillion; p < 0 {
		v.errorf("pricing.request_usd_per_million", "must not be negative, got %g", p)
	}
	if p := v.cfg.Pricing.GBSecondUSD; p < 0 {
		v.errorf("pricing.gb_second_usd", "must not be negative, got %g", p)
	}
}

func (v *validator) admin() {
	a := v.cfg.Admin
	if a.Address != "" {
		if _, _, err := splitHostPort(a.Address); err != "" {
			v.errorf("admin.address", "invalid address %q: %s", a.Address, err)
		}
	}
	if c := a.Credentials; c != nil {
		if c.AccessKeyID == "" {
			v.errorf("admin.credentials.access_key_id", "required when credentials are set")
		}
		if c.SecretAccessKey == "" {
			v.errorf("admin.credentials.secret_access_key", "required when credentials are set")
		}
	}
	if t := a.OpsToken; t != "" || v.d.isSet("admin.ops_token") {
		if msg := opsTokenProblem(t); msg != "" {
			v.errorf("admin.ops_token", "%s", msg)
		}
	}
}

// opsTokenProblem says what is wrong with an admin.ops_token ("" when
// nothing): it travels in an Authorization header, and a short one could
// be guessed.
func opsTokenProblem(t string) string {
	if len(t) < 16 || len(t) > 256 {
		return "must be 16-256 characters, got " + itoa(len(t))
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] >= 0x7f {
			return "must be visible ASCII characters (no spaces): it is sent as \"Authorization: Bearer <token>\""
		}
	}
	return ""
}

// splitHostPort checks a host:port address; err is "" when it is valid.
func splitHostPort(addr string) (host string, port int, err string) {
	h, p, e := net.SplitHostPort(addr)
	if e != nil {
		return "", 0, "want host:port"
	}
	n, e := strconv.Atoi(p)
	if e != nil || n < 1 || n > 65535 {
		return "", 0, "port must be 1-65535"
	}
	return h, n, ""
}

// resolve makes a path from the file absolute without changing the config
// (paths are resolved in place only after validation).
func (v *validator) resolve(p string) string { return resolvePath(v.dir, p) }
