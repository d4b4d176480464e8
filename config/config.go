package config

import "time"

// Config is one albedo.yaml after defaults were applied and validation passed.
// It is plain data: every other package compiles the slice it needs in its
// constructor and never reads Config on the request path.
type Config struct {
	// File is the absolute path of the file the config was loaded from
	// ("" for an embedded or in-memory config). Relative paths inside the
	// file were already resolved against its directory.
	File string `yaml:"-"`

	Region       string `yaml:"region"`        // [us-east-1]
	AccountID    string `yaml:"account_id"`    // [123456789012], 12 digits
	LoadBalancer string `yaml:"load_balancer"` // [albedo]

	Admin Admin `yaml:"admin"`

	// AccessLog writes the ALB access log (one line per request); nil: no
	// access log (`albedo serve -access-log` overrides it).
	AccessLog *AccessLog `yaml:"access_log"`

	// MaxConcurrency caps the execution environments alive at once across
	// all functions [1000], 1-100000.
	MaxConcurrency int `yaml:"max_concurrency"`
	// IdleTimeout stops an environment that served nothing for this long
	// [5m]; written as a Go duration string ("90s", "5m").
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MemoryBudget caps the sum of memory_size (MB) of live environments;
	// 0 in the file means the machine's RAM.
	MemoryBudget int `yaml:"memory_budget"`
	// BodyMemoryBudget caps the memory (MB) held at once for request
	// bodies by every listener and the admin API together [256], 16-65536;
	// beyond it new bodies are refused (503 on listeners, 429 on the
	// admin API).
	BodyMemoryBudget int `yaml:"body_memory_budget"`
	// StateDir holds durable state (async event queue, policy changes,
	// the installed runtime clients) [.albedo next to the config file].
	StateDir string `yaml:"state_dir"`
	// CPUModel is how much CPU an execution environment gets [host]:
	// "host", all of the machine's; "aws", memory_size/1,769 of one CPU
	// (capped at 6), as on Lambda (needs cgroups). Functions may override it.
	CPUModel string `yaml:"cpu_model"`

	// Runtimes names the interpreter of a managed runtime, e.g.
	// {"python3.12": "/opt/py312/bin/python3"}. A value with a "/" is a
	// path (resolved against the config file's directory); one without is
	// looked up on PATH. Runtimes not named use PATH: node; python3.N,
	// then python3.
	Runtimes map[string]string `yaml:"runtimes"`
	// Log configures albedo's own log on stderr.
	Log Log `yaml:"log"`
	// Pricing holds the rates of the estimated-cost metrics.
	Pricing Pricing `yaml:"pricing"`

	Listeners    []Listener    `yaml:"listeners"`
	TargetGroups []TargetGroup `yaml:"target_groups"`
	Functions    []Function    `yaml:"functions"`

	// written is where each field was written, so that checks made after
	// loading (ErrorAt) point into the file too; nil for a Config built
	// in code.
	written *positions
	// Warnings are problems that do not stop the configuration from
	// loading (AWS would accept it; the function would fail at run time),
	// positioned like errors, each Msg starting with "warning: ".
	Warnings Errors `yaml:"-"`
}

// positions is where the fields of one file were written: the file name
// as given to Parse, and the position of each field path.
type positions struct {
	file string
	pos  map[string]position
}

// Admin configures the admin listener (Invoke API, policy API).
type Admin struct {
	// Address is host:port [127.0.0.1:9001]; "" disables the admin listener.
	Address string `yaml:"address"`
	// Credentials, when set, make every admin request require a valid SigV4
	// signature made with them.
	Credentials *Credentials `yaml:"credentials"`
	// OpsToken, when set, admits a request for the read-only operations
	// endpoints (/metrics, /targetgroups) that carries "Authorization:
	// Bearer <OpsToken>", from any host and without a signature: a
	// Prometheus scraper cannot sign SigV4. 16-256 visible ASCII
	// characters.
	OpsToken string `yaml:"ops_token"`
}

// Log configures albedo's own log records (stderr). The -log-level and
// -log-format flags of serve override it.
type Log struct {
	Level  string `yaml:"level"`  // [info] debug | info | warn | error
	Format string `yaml:"format"` // [text] text | json
}

// Pricing is what the estimated-cost metrics charge: AWS's published x86
// on-demand Lambda prices by default (us-east-1, first tier; the free tier
// is not subtracted).
type Pricing struct {
	RequestUSDPerMillion float64 `yaml:"request_usd_per_million"` // [0.20] USD per million requests, >= 0
	GBSecondUSD          float64 `yaml:"gb_second_usd"`           // [0.0000166667] USD per GB-second, >= 0
}

// AccessLog configures the ALB access log.
type AccessLog struct {
	// Path is the file the lines are appended to (created when missing),
	// resolved against the config file's directory; "-" is standard
	// output. Required.
	Path string `yaml:"path"`
}

// Credentials is an AWS access key pair.
type Credentials struct {
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
}

// Listener is one port the balancer serves.
type Listener struct {
	Port          int           `yaml:"port"`     // required, 1-65535
	Address       string        `yaml:"address"`  // [""] = all interfaces
	Protocol      string        `yaml:"protocol"` // [HTTP] | HTTPS
	Certificates  []Certificate `yaml:"certificates"`
	DefaultAction *Action       `yaml:"default_action"`
	Rules         []Rule        `yaml:"rules"`
}

// Certificate is a PEM certificate chain and its private key (paths resolved).
type Certificate struct {
	CertificateFile string `yaml:"certificate_file"`
	PrivateKeyFile  string `yaml:"private_key_file"`
}

// Rule is one listener rule. Rules are kept in the file's order; callers sort
// by Priority (lowest first).
type Rule struct {
	Priority   int         `yaml:"priority"` // 1-50000, unique per listener
	Conditions []Condition `yaml:"conditions"`
	Action     *Action     `yaml:"action"`
}

// Condition has exactly one non-empty field. Values inside a condition are
// OR'ed; the conditions of a rule are AND'ed.
type Condition struct {
	PathPattern       []string           `yaml:"path_pattern"`
	HostHeader        []string           `yaml:"host_header"`
	HTTPHeader        *HTTPHeaderMatch   `yaml:"http_header"`
	HTTPRequestMethod []string           `yaml:"http_request_method"`
	QueryString       []QueryStringMatch `yaml:"query_string"`
	SourceIP          []string           `yaml:"source_ip"`
}

// HTTPHeaderMatch matches one header by name against value patterns.
type HTTPHeaderMatch struct {
	Name   string   `yaml:"name"`
	Values []string `yaml:"values"`
}

// QueryStringMatch matches one key=value pair of the raw query; Key "" means
// any key.
type QueryStringMatch struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

// Action has exactly one non-nil field.
type Action struct {
	Forward       *Forward       `yaml:"forward"`
	Redirect      *Redirect      `yaml:"redirect"`
	FixedResponse *FixedResponse `yaml:"fixed_response"`
}

// Forward sends the request to one target group, or to a weighted set.
// After loading, TargetGroups always holds the groups (a single
// target_group becomes one entry of weight 1) and TargetGroup is cleared.
type Forward struct {
	TargetGroup  string           `yaml:"target_group"`
	TargetGroups []WeightedGroup  `yaml:"target_groups"`
	Stickiness   *GroupStickiness `yaml:"stickiness"`
}

// WeightedGroup is one entry of a weighted forward.
type WeightedGroup struct {
	Name   string `yaml:"name"`
	Weight *int   `yaml:"weight"` // 0-999 [1]
}

// GroupStickiness binds a client to the group it was first sent to.
type GroupStickiness struct {
	Enabled  bool `yaml:"enabled"`
	Duration int  `yaml:"duration"` // seconds, 1-604800 [3600]
}

// Redirect builds a Location from the request. Unset fields default to the
// request's own value: "#{protocol}", "#{host}", "#{port}", "/#{path}",
// "#{query}".
type Redirect struct {
	Protocol   string `yaml:"protocol"`
	Host       string `yaml:"host"`
	Port       string `yaml:"port"`
	Path       string `yaml:"path"`
	Query      string `yaml:"query"`
	StatusCode string `yaml:"status_code"` // HTTP_301 | HTTP_302 (required)
}

// FixedResponse answers without a target.
type FixedResponse struct {
	StatusCode  int    `yaml:"status_code"`  // 2XX, 4XX, 5XX
	ContentType string `yaml:"content_type"` // text/plain | text/css | text/html | application/javascript | application/json
	MessageBody string `yaml:"message_body"` // <= 1024 characters
}

// TargetGroup is a Lambda target group. ARN is derived at load time.
type TargetGroup struct {
	Name              string      `yaml:"name"`
	TargetType        string      `yaml:"target_type"` // [lambda]
	Targets           []string    `yaml:"targets"`     // exactly one: function name or ARN
	MultiValueHeaders bool        `yaml:"multi_value_headers"`
	HealthCheck       HealthCheck `yaml:"health_check"`

	// ARN is arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}/{id}.
	ARN string `yaml:"-"`
	// Function is the name of the target function (resolved from Targets[0]).
	Function string `yaml:"-"`
}

// HealthCheck holds the group's health-check settings (AWS defaults for
// Lambda groups).
type HealthCheck struct {
	Enabled            bool   `yaml:"enabled"`             // [false]
	Path               string `yaml:"path"`                // [/]
	Interval           int    `yaml:"interval"`            // [35] 5-300 s
	Timeout            int    `yaml:"timeout"`             // [30] 2-120 s, < interval
	HealthyThreshold   int    `yaml:"healthy_threshold"`   // [5] 2-10
	UnhealthyThreshold int    `yaml:"unhealthy_threshold"` // [2] 2-10
	Matcher            string `yaml:"matcher"`             // ["200"]
}

// Function is one Lambda function: local (Runtime set; albedo runs it) or
// remote (RemoteARN or Endpoint set; albedo invokes it through the Lambda
// Invoke API of AWS or of another server). Local-only fields (runtime,
// handler, code, build, memory_size, reserved_concurrency, environment)
// are refused on a remote function, remote-only ones on a local function.
type Function struct {
	Name string `yaml:"name"`
	// Runtime is provided.al2023 | provided.al2 | provided | builtin |
	// nodejsN.x | python3.N.
	Runtime string `yaml:"runtime"`
	// Handler is the executable inside Code for provided* [bootstrap],
	// the builtin's name, "path/file.export" for Node.js and
	// "pkg.module.function" for Python.
	Handler string   `yaml:"handler"`
	Code    string   `yaml:"code"` // directory, resolved to absolute
	Build   []string `yaml:"build"`
	// Layers are directories laid out as a layer zip's contents, in order
	// (at most 5), resolved to absolute.
	Layers              []string          `yaml:"layers"`
	MemorySize          int               `yaml:"memory_size"` // [128] MB
	Timeout             int               `yaml:"timeout"`     // [3] s; for a remote function albedo's own deadline for the call
	ReservedConcurrency *int              `yaml:"reserved_concurrency"`
	Environment         map[string]string `yaml:"environment"`
	Policy              []Statement       `yaml:"policy"`
	Async               Async             `yaml:"async"`
	CPUModel            string            `yaml:"cpu_model"` // host | aws [the top-level cpu_model]

	// RemoteARN makes the function an AWS Lambda function, invoked with
	// the SDK's default credential chain in the ARN's region:
	// arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER].
	RemoteARN string `yaml:"arn"`
	// Endpoint makes the function one served by any Lambda Invoke API
	// (http or https base URL, e.g. the runtime interface emulator,
	// another albedo).
	Endpoint string `yaml:"endpoint"`
	// FunctionName is the function's name at Endpoint [Name]: a name,
	// name:qualifier, or an ARN.
	FunctionName string `yaml:"function_name"`
	// Credentials sign the calls to Endpoint with SigV4; nil sends them
	// unsigned.
	Credentials *Credentials `yaml:"credentials"`
	// Region is the region an endpoint function's calls are signed for
	// (the SigV4 credential scope the server checks) [the region of
	// FunctionName when that is an ARN, else the config's region].
	Region string `yaml:"region"`
	// PolicySource is where a remote function's resource policy comes
	// from: "config" (Policy) or "aws" (GetPolicy once at start)
	// [config for remote functions, "" for local ones].
	PolicySource string `yaml:"policy_source"`

	// ARN is arn:aws:lambda:{region}:{account}:function:{name} for a local
	// function; RemoteARN for an arn function; for an endpoint function
	// FunctionName when that is a full ARN, else the local form.
	ARN string `yaml:"-"`
}

// Remote reports whether albedo invokes f through a Lambda Invoke API
// instead of running it.
func (f *Function) Remote() bool { return f.RemoteARN != "" || f.Endpoint != "" }

// Policy sources (Function.PolicySource).
const (
	PolicySourceConfig = "config"
	PolicySourceAWS    = "aws"
)

// Statement is one Allow statement of a function's resource-based policy.
type Statement struct {
	Sid           string `yaml:"sid"`
	Principal     string `yaml:"principal"`
	Action        string `yaml:"action"`
	SourceARN     string `yaml:"source_arn"`
	SourceAccount string `yaml:"source_account"`
}

// Async is a function's asynchronous-invocation configuration.
type Async struct {
	MaximumRetryAttempts *int   `yaml:"maximum_retry_attempts"` // 0-2 [2]
	MaximumEventAge      int    `yaml:"maximum_event_age"`      // 60-21600 s [21600]
	OnSuccess            string `yaml:"on_success"`             // function name/ARN or file://PATH
	OnFailure            string `yaml:"on_failure"`
}

// Duration is a time.Duration written in YAML as a Go duration string.
type Duration struct{ time.Duration }
