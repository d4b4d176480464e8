package executor

import (
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// overridable are the variables a function's own environment may replace
// (Lambda lets customers override only these of the ones it sets; its
// Node.js bootstrap sets NODE_PATH only when the function did not).
var overridable = map[string]bool{
	"LANG": true, "PATH": true, "LD_LIBRARY_PATH": true, "TZ": true,
	"AWS_XRAY_CONTEXT_MISSING": true, "AWS_XRAY_DAEMON_ADDRESS": true,
	"AWS_LAMBDA_LOG_FORMAT": true, "AWS_LAMBDA_LOG_LEVEL": true,
	"NODE_PATH": true,
}

// forbidden are never passed to a function: the first switches
// aws-lambda-go to the legacy go1.x RPC protocol, the second turns on
// Lambda Managed Instances' multi-concurrency mode.
// The last two are set per execution environment.
var forbidden = map[string]bool{
	"_LAMBDA_SERVER_PORT":        true,
	"AWS_LAMBDA_MAX_CONCURRENCY": true,
	"AWS_LAMBDA_RUNTIME_API":     true,
	"AWS_LAMBDA_LOG_STREAM_NAME": true,
}

// droppedUserKey reports whether a key of the function's own environment is
// ignored: names starting with "_" and the forbidden ones.
func droppedUserKey(k string) bool {
	return k == "" || strings.HasPrefix(k, "_") || forbidden[k] || strings.ContainsAny(k, "=\x00")
}

// baseEnv is the environment of every execution environment of fn, without
// the per-environment AWS_LAMBDA_RUNTIME_API and log stream name: Lambda's
// variables, the runtime's own (vars: PATH and LD_LIBRARY_PATH, which are
// all that comes from albedo's environment, and for the managed runtimes
// AWS_EXECUTION_ENV, NODE_PATH, ...) and the function's.
func baseEnv(fn *Function, handler, taskRoot string, vars map[string]string) map[string]string {
	platform := map[string]string{
		"_HANDLER":                        handler,
		"AWS_LAMBDA_FUNCTION_NAME":        fn.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.MemorySize),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + fn.Name,
		"AWS_REGION":                      fn.Region,
		"AWS_DEFAULT_REGION":              fn.Region,
		"LAMBDA_TASK_ROOT":                taskRoot,
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
	}
	maps.Copy(platform, vars)
	env := make(map[string]string, len(platform)+len(fn.Environment))
	for k, v := range fn.Environment {
		if !droppedUserKey(k) {
			env[k] = v
		}
	}
	for k, v := range platform {
		if _, set := env[k]; set && overridable[k] {
			continue
		}
		env[k] = v
	}
	return env
}

// environ renders env plus the per-environment variables as a sorted
// KEY=VALUE list for exec.
func environ(env map[string]string, runtimeAPI, logStream string) []string {
	out := make([]string, 0, len(env)+2)
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	out = append(out, "AWS_LAMBDA_RUNTIME_API="+runtimeAPI, "AWS_LAMBDA_LOG_STREAM_NAME="+logStream)
	return out
}

// logStreamName is YYYY/MM/DD/[$LATEST]<32 hex>, as Lambda names the log
// stream of each execution environment.
func logStreamName(now time.Time) string {
	return now.UTC().Format("2006/01/02") + "/[$LATEST]" + newHex(16)
}

// hostPath is albedo's PATH, or Lambda's default when unset.
func hostPath() string {
	if p := os.Getenv("PATH"); p != "" {
		return p
	}
	return "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
}
