package config

// maxEnvironmentSize is Lambda's limit on the total size of a function's
// environment variables. How Lambda counts is UNCONFIRMED; albedo adds up
// the bytes of every name and value.
const maxEnvironmentSize = 4096

var envKeyRE = lazyRegexp(`^[A-Za-z][A-Za-z0-9_]*$`)

// reservedEnv are the variables the Lambda runtime environment sets itself
// ("Defined runtime environment variables",
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime);
// a function can't override them. AWS_LAMBDA_MAX_CONCURRENCY
// is reserved too although only Lambda Managed Instances set it: its mere
// presence switches runtime clients into multi-concurrency mode.
var reservedEnv = map[string]bool{
	"_HANDLER":                        true,
	"_X_AMZN_TRACE_ID":                true,
	"AWS_DEFAULT_REGION":              true,
	"AWS_REGION":                      true,
	"AWS_EXECUTION_ENV":               true,
	"AWS_LAMBDA_FUNCTION_NAME":        true,
	"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION":     true,
	"AWS_LAMBDA_INITIALIZATION_TYPE":  true,
	"AWS_LAMBDA_LOG_GROUP_NAME":       true,
	"AWS_LAMBDA_LOG_STREAM_NAME":      true,
	"AWS_ACCESS_KEY":                  true,
	"AWS_ACCESS_KEY_ID":               true,
	"AWS_SECRET_ACCESS_KEY":           true,
	"AWS_SESSION_TOKEN":               true,
	"AWS_LAMBDA_RUNTIME_API":          true,
	"AWS_LAMBDA_MAX_CONCURRENCY":      true,
	"LAMBDA_TASK_ROOT":                true,
	"LAMBDA_RUNTIME_DIR":              true,
}

// IsReservedEnv reports whether name is set by the Lambda environment itself
// and so may not appear in a function's environment. Every name starting
// with "_" is reserved.
func IsReservedEnv(name string) bool {
	return reservedEnv[name] || len(name) > 0 && name[0] == '_'
}
