package executor

import (
	"errors"
	"io"
	"log/slog"
	"time"
)

// Function describes one local Lambda function. cmd/albedo builds it from
// config.Function; the executor never reads config files itself.
type Function struct {
	Name string // unique name
	ARN  string // arn:aws:lambda:{region}:{account}:function:{name}
	// Runtime is provided.al2023 | provided.al2 | provided | builtin, or a
	// managed runtime: nodejsN.x (any N, e.g. nodejs20.x) or python3.N.
	Runtime string
	// Handler is the executable inside Code for provided* runtimes
	// ("bootstrap"), the builtin function's name for runtime builtin, and
	// for the managed runtimes the handler string their runtime client
	// resolves ("src/app.handler" for Node.js, "pkg.module.function" for
	// Python), passed as _HANDLER.
	Handler string
	Code    string // absolute directory; the process's working dir and LAMBDA_TASK_ROOT
	// Layers are absolute directories, in Lambda's layer order, laid out as
	// the contents of a layer zip (nodejs/node_modules, python, bin, lib,
	// extensions, ...). See layers.go for how they reach a function.
	Layers      []string
	Build       []string // optional command run once in Code before the first start
	MemorySize  int      // MB
	Timeout     time.Duration
	Reserved    int // reserved concurrency; -1 = no per-function cap; 0 = always throttled
	Environment map[string]string
	Region      string
	// CPUModel is CPUModelHost ("" too): the host's CPU, or CPUModelAWS:
	// memory_size/1,769 of one CPU, capped at 6, as on Lambda (needs
	// cgroups; see Pool.Isolation).
	CPUModel string
}

// Options configures a Pool. Zero values take the documented defaults.
type Options struct {
	MaxConcurrency int           // environments alive at once, all functions [1000]
	IdleTimeout    time.Duration // stop an environment idle this long [5m]
	MemoryBudget   int           // MB; sum of MemorySize of live environments [machine RAM]
	InitTimeout    time.Duration // [10s]
	// RuntimeDir is a directory albedo owns (cmd/albedo passes
	// state_dir/runtime) where the embedded Node.js and Python runtime
	// clients are written, once per albedo version, into a subdirectory
	// named by their content hash. Required when a nodejs* or python*
	// function exists; nothing is ever fetched.
	RuntimeDir string
	// Interpreters are the interpreters of managed runtimes by runtime
	// name, as ProbeInterpreter returned them (cmd/albedo probes them to
	// report problems with their place in albedo.yaml). A runtime without
	// an entry is probed by New with its interpreter looked up on PATH
	// (node; python3.N, then python3), and a newer version than the
	// runtime's is logged as a warning.
	Interpreters map[string]Interpreter
	// BuiltinCommand is argv[0..] that starts a runtime: builtin function;
	// the handler name is appended. cmd/albedo passes its own executable
	// and a hidden subcommand.
	BuiltinCommand []string
	// CgroupName names the Pool's parent cgroup, created beneath the cgroup
	// albedo runs in (in each v1 hierarchy), holding one cgroup per
	// execution environment; "" = no cgroups, process groups only. New
	// first kills and removes what a previous Pool of the same name left
	// behind; a live Pool holds an flock on its parent cgroup, so a second
	// Pool of the same name never takes the first one's environments for
	// leftovers: it runs in process groups and Isolation says why.
	// cmd/albedo derives the name from its state_dir (CgroupNameFor).
	// Without cgroup access New falls back to process groups too.
	CgroupName string
	// Logger receives albedo's own records (component=executor).
	Logger *slog.Logger
	// FunctionLog receives function output lines and the START/END/REPORT
	// lines in CloudWatch's text form, whole lines per Write: one line, or
	// the lines that end an invocation (END, REPORT, and a failure's lines
	// around them). [os.Stderr]
	FunctionLog io.Writer
	// PrefixFunctionLog prefixes every FunctionLog line with "[function] ",
	// for a terminal that shows several functions' logs at once (in
	// CloudWatch each function has its own log group, so lines carry no
	// function name). TailLog output is never prefixed.
	PrefixFunctionLog bool
	// FunctionRecords, when set, receives every FunctionLog line instead,
	// as an Info record whose message is the line exactly as Lambda writes
	// it, with a "function" attribute: for structured (JSON) logs.
	// FunctionLog and PrefixFunctionLog are then unused.
	FunctionRecords *slog.Logger
	// Metrics receives the functions' Prometheus metrics; one per process,
	// shared by every Pool it builds. nil counts nothing.
	Metrics *Metrics
}

// Request is one invocation. Payload is opaque bytes owned by the Pool after
// the call starts; the caller must not modify it.
type Request struct {
	Function string // function name
	// RequestID is the invocation's request id ("" = a new one). The async
	// queue passes its event's id so that every retry of one event carries
	// the same Lambda-Runtime-Aws-Request-Id, as in Lambda.
	RequestID       string
	Payload         []byte
	ClientContext   string // base64, passed as Lambda-Runtime-Client-Context
	CognitoIdentity string // passed as Lambda-Runtime-Cognito-Identity
	TraceID         string // passed as Lambda-Runtime-Trace-Id ("" = generated)
	// TailLog asks for the invocation's log lines (function output and the
	// START/END/REPORT lines) in Response.Log.
	TailLog bool
}

// Response is the result of an invocation that reached the function.
// A function error is a Response with FunctionError set, not a Go error.
type Response struct {
	RequestID string
	Payload   []byte
	// FunctionError is "" on success, "Unhandled" when the runtime posted to
	// /error, or the platform failed the invocation (timeout, crash, out of
	// memory, init failure). Payload then holds the error JSON
	// ({"errorMessage":…,"errorType":…}).
	FunctionError string
	// ErrorType is the errorType of a platform failure: "Sandbox.Timedout",
	// "Runtime.ExitError" (an exit, including the kill at memory_size),
	// "Function.ResponseSizeTooLarge", "Runtime.InvalidEntrypoint", or for
	// /init/error the type the runtime reported ("Runtime.InitError" when it
	// gave none); "" when the function itself reported the error through
	// /error, or succeeded. See the ErrorType* constants.
	ErrorType string
	Duration  time.Duration // from delivery to the runtime until its answer
	Log       []byte        // when Request.TailLog: the invocation's log lines
}

// Sentinel errors callers branch on with errors.Is.
var (
	ErrFunctionNotFound = errors.New("executor: function not found")
	ErrThrottled        = errors.New("executor: throttled")
	ErrClosed           = errors.New("executor: pool closed")
	ErrPayloadTooLarge  = errors.New("executor: payload too large")
	// ErrCgroupInUse: RemoveLeftovers found the cgroup name held by a
	// running albedo's Pool (Options.CgroupName), and ended nothing.
	ErrCgroupInUse = errors.New("executor: the cgroup is in use by a running albedo")

	// Failures of a Lambda service reached over the network (remote
	// functions, package remote); the local Pool never returns them.
	//
	// ErrAccessDenied: the service refused the caller (403).
	ErrAccessDenied = errors.New("executor: the Lambda service denied the invocation")
	// ErrConnection: no answer could be had (connection refused or
	// broken, TLS failure).
	ErrConnection = errors.New("executor: cannot connect to the Lambda service")
	// ErrService: the service answered with an error of its own (5xx,
	// or another status the invocation protocol does not expect).
	ErrService = errors.New("executor: the Lambda service failed")
)

// Throttle reasons, as in Lambda's TooManyRequestsException.
const (
	ReasonReserved   = "ReservedFunctionConcurrentInvocationLimitExceeded"
	ReasonConcurrent = "ConcurrentInvocationLimitExceeded"
)

// ThrottleError is returned (wrapped) when an invocation cannot get an
// execution environment. errors.Is(err, ErrThrottled) is true for it.
type ThrottleError struct {
	Function string
	Reason   string // ReasonReserved or ReasonConcurrent
}

func (e *ThrottleError) Error() string {
	return "executor: " + e.Function + " throttled: " + e.Reason
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottleError) Is(target error) bool { return target == ErrThrottled }

// MaxPayloadSize is Lambda's synchronous request and response payload limit
// (6 MB).
const MaxPayloadSize = 6 * 1024 * 1024
