package config

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Defaults, as documented in README.md (Configuration reference).
const (
	DefaultRegion         = "us-east-1"
	DefaultAccountID      = "123456789012"
	DefaultLoadBalancer   = "albedo"
	DefaultAdminAddress   = "127.0.0.1:9001"
	DefaultMaxConcurrency = 1000
	DefaultIdleTimeout    = 5 * time.Minute
	// DefaultBodyMemoryBudget is body_memory_budget's default, in MB.
	DefaultBodyMemoryBudget = 256
	DefaultStateDir         = ".albedo"
	DefaultHandler          = "bootstrap"
	DefaultMemorySize       = 128
	DefaultTimeout          = 3
	DefaultStickiness       = 3600
	DefaultRetryAttempts    = 2
	DefaultMaxEventAge      = 21600
	DefaultLogLevel         = "info"
	DefaultLogFormat        = "text"
	// DefaultRequestUSDPerMillion and DefaultGBSecondUSD are AWS's x86
	// on-demand Lambda prices (us-east-1, first tier:
	// https://aws.amazon.com/lambda/pricing/).
	DefaultRequestUSDPerMillion = 0.20
	DefaultGBSecondUSD          = 0.0000166667
	DefaultCPUModel             = "host"
)

// applyDefaults fills every unset field and normalizes the forms the file
// may use (single forward target, relative paths). An explicit value, even a
// zero one, is kept so that validation can refuse it: "memory_size: 0" is an
// error, not 128.
func applyDefaults(c *Config, d *decoder, dir string) {
	if c.Region == "" && !d.isSet("region") {
		c.Region = DefaultRegion
	}
	if c.AccountID == "" && !d.isSet("account_id") {
		c.AccountID = DefaultAccountID
	}
	if c.LoadBalancer == "" && !d.isSet("load_balancer") {
		c.LoadBalancer = DefaultLoadBalancer
	}
	if !d.isSet("admin.address") {
		c.Admin.Address = DefaultAdminAddress
	}
	if !d.isSet("max_concurrency") {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	if !d.isSet("idle_timeout") {
		c.IdleTimeout = Duration{DefaultIdleTimeout}
	}
	if !d.isSet("body_memory_budget") {
		c.BodyMemoryBudget = DefaultBodyMemoryBudget
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.Log.Level == "" && !d.isSet("log.level") {
		c.Log.Level = DefaultLogLevel
	}
	if c.Log.Format == "" && !d.isSet("log.format") {
		c.Log.Format = DefaultLogFormat
	}
	if !d.isSet("pricing.request_usd_per_million") {
		c.Pricing.RequestUSDPerMillion = DefaultRequestUSDPerMillion
	}
	if !d.isSet("pricing.gb_second_usd") {
		c.Pricing.GBSecondUSD = DefaultGBSecondUSD
	}
	if !d.isSet("cpu_model") {
		c.CPUModel = DefaultCPUModel
	}

	for i := range c.Listeners {
		l := &c.Listeners[i]
		p := indexPath("listeners", i)
		if l.Protocol == "" && !d.isSet(p+".protocol") {
			l.Protocol = "HTTP"
		}
		if l.DefaultAction != nil {
			defaultAction(l.DefaultAction, d, p+".default_action")
		}
		for j := range l.Rules {
			if a := l.Rules[j].Action; a != nil {
				defaultAction(a, d, indexPath(p+".rules", j)+".action")
			}
		}
	}

	for i := range c.TargetGroups {
		defaultTargetGroup(&c.TargetGroups[i], d, indexPath("target_groups", i))
	}
	for i := range c.Functions {
		defaultFunction(&c.Functions[i], d, indexPath("functions", i)+".", c.CPUModel)
	}
}

// defaultTargetGroup fills g's unset fields (g at path p): the target
// type and the health-check settings.
func defaultTargetGroup(g *TargetGroup, d *decoder, p string) {
	if g.TargetType == "" && !d.isSet(p+".target_type") {
		g.TargetType = "lambda"
	}
	hp := p + ".health_check."
	h := &g.HealthCheck
	if h.Path == "" && !d.isSet(hp+"path") {
		h.Path = "/"
	}
	setInt(&h.Interval, 35, d, hp+"interval")
	setInt(&h.Timeout, 30, d, hp+"timeout")
	setInt(&h.HealthyThreshold, 5, d, hp+"healthy_threshold")
	setInt(&h.UnhealthyThreshold, 2, d, hp+"unhealthy_threshold")
	if h.Matcher == "" && !d.isSet(hp+"matcher") {
		h.Matcher = "200"
	}
}

// defaultFunction fills f's unset fields (p is f's path and a dot).
func defaultFunction(f *Function, d *decoder, p, cpuModel string) {
	if f.Handler == "" && !d.isSet(p+"handler") && strings.HasPrefix(f.Runtime, "provided") {
		f.Handler = DefaultHandler
	}
	if f.Endpoint != "" && f.FunctionName == "" && !d.isSet(p+"function_name") {
		f.FunctionName = f.Name
	}
	remote := f.Remote() || d.isSet(p+"arn") || d.isSet(p+"endpoint")
	if remote && f.PolicySource == "" && !d.isSet(p+"policy_source") {
		f.PolicySource = PolicySourceConfig
	}
	setInt(&f.MemorySize, DefaultMemorySize, d, p+"memory_size")
	setInt(&f.Timeout, DefaultTimeout, d, p+"timeout")
	if f.Async.MaximumRetryAttempts == nil {
		n := DefaultRetryAttempts
		f.Async.MaximumRetryAttempts = &n
	}
	setInt(&f.Async.MaximumEventAge, DefaultMaxEventAge, d, p+"async.maximum_event_age")
	if !d.isSet(p + "cpu_model") { // the top-level cpu_model
		f.CPUModel = cpuModel
	}
}

// resolvePaths makes every path in c absolute, relative to dir. It runs after
// validation so that messages quote paths as they were written.
func resolvePaths(c *Config, dir string) {
	c.StateDir = resolvePath(dir, c.StateDir)
	if c.AccessLog != nil && c.AccessLog.Path != "-" {
		c.AccessLog.Path = resolvePath(dir, c.AccessLog.Path)
	}
	for i := range c.Listeners {
		for j := range c.Listeners[i].Certificates {
			cert := &c.Listeners[i].Certificates[j]
			cert.CertificateFile = resolvePath(dir, cert.CertificateFile)
			cert.PrivateKeyFile = resolvePath(dir, cert.PrivateKeyFile)
		}
	}
	for name, cmd := range c.Runtimes {
		if strings.Contains(cmd, "/") {
			c.Runtimes[name] = resolvePath(dir, cmd)
		}
	}
	for i := range c.Functions {
		f := &c.Functions[i]
		f.Code = resolvePath(dir, f.Code)
		for j := range f.Layers {
			f.Layers[j] = resolvePath(dir, f.Layers[j])
		}
		f.Async.OnSuccess = resolveDestination(dir, f.Async.OnSuccess)
		f.Async.OnFailure = resolveDestination(dir, f.Async.OnFailure)
	}
}

func setInt(v *int, def int, d *decoder, path string) {
	if !d.isSet(path) {
		*v = def
	}
}

func defaultAction(a *Action, d *decoder, path string) {
	if f := a.Forward; f != nil {
		if f.TargetGroup != "" {
			one := 1
			f.TargetGroups = append([]WeightedGroup{{Name: f.TargetGroup, Weight: &one}}, f.TargetGroups...)
			f.TargetGroup = ""
		}
		for i := range f.TargetGroups {
			if f.TargetGroups[i].Weight == nil {
				one := 1
				f.TargetGroups[i].Weight = &one
			}
		}
		if s := f.Stickiness; s != nil && s.Enabled && !d.isSet(path+".forward.stickiness.duration") {
			s.Duration = DefaultStickiness
		}
	}
	if r := a.Redirect; r != nil {
		if r.Protocol == "" {
			r.Protocol = "#{protocol}"
		}
		if r.Host == "" {
			r.Host = "#{host}"
		}
		if r.Port == "" {
			r.Port = "#{port}"
		}
		if r.Path == "" {
			r.Path = "/#{path}"
		}
		if r.Query == "" && !d.isSet(path+".redirect.query") {
			r.Query = "#{query}"
		}
	}
}

// resolvePath makes p absolute, relative to dir. "" stays "".
func resolvePath(dir, p string) string {
	if p == "" {
		return ""
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

func resolveDestination(dir, dest string) string {
	if rest, ok := strings.CutPrefix(dest, "file://"); ok && rest != "" {
		return "file://" + resolvePath(dir, rest)
	}
	return dest
}

// itoa is strconv.Itoa, short for messages.
func itoa(i int) string { return strconv.Itoa(i) }
