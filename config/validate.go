package config

import (
	"fmt"
	"net"
	"regexp"
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
	regionRE   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountRE  = regexp.MustCompile(`^[0-9]{12}$`)
	elbNameRE  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$`)
	funcNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
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
	if !regionRE.MatchString(c.Region) {
		v.errorf("region", "invalid region %q: want a name such as us-east-1", c.Region)
	}
	if !accountRE.MatchString(c.AccountID) {
		v.errorf("account_id", "must be 12 digits, got %q (quote it so YAML keeps it a string)", c.AccountID)
	}
	switch {
	case !elbNameRE.MatchString(c.LoadBalancer):
		v.errorf("load_balancer", "invalid name %q: 1-32 letters, digits and hyphens, not starting or ending with a hyphen", c.LoadBalancer)
	case strings.HasPrefix(strings.ToLower(c.LoadBalancer), "internal-"):
		v.errorf("load_balancer", "name %q must not begin with \"internal-\"", c.LoadBalancer)
	}
	v.admin()
	if v.d.isSet("max_concurrency") {
		v.intRange("max_concurrency", c.MaxConcurrency, 1, 100000)
	}
	if d := c.IdleTimeout.Duration; d < time.Second || d > 24*time.Hour {
		v.errorf("idle_timeout", "must be 1s-24h, got %s", d)
	}
	if c.MemoryBudget != 0 && c.MemoryBudget < 128 {
		v.errorf("memory_budget", "must be 0 (the machine's RAM) or at least 128 MB, got %d", c.MemoryBudget)
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
	v.listeners()
	v.targetGroups()
	v.functions()
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
