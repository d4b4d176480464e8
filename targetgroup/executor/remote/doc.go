// Package remote invokes Lambda functions albedo does not run itself: AWS
// Lambda functions (config "arn") and functions behind any server that
// speaks the Lambda Invoke API (config "endpoint": the runtime interface
// emulator, LocalStack, another albedo). It is the Lambda service's
// transport to other Lambda services, beside the local executor: it
// imports executor for the Request and Response types and the error
// sentinels, and knows nothing of target groups, listeners or ALB events
// (payloads are opaque bytes).
//
// # Use
//
// New builds one Client per remote function at start; Router sends each
// invocation to its function's Client or to the local executor.Pool, and
// is the Invoker of target groups, the Invoke API, the async queue and the
// health checks alike. A remote function's answer is an executor.Response
// like a local one's, so target groups decode it with the same
// lambdaadapter decoder.
//
// # Calls
//
// Every call goes through aws-sdk-go-v2's Lambda client, built once per
// function (never per request) over one shared http.Client whose pool
// keeps up to 256 idle keep-alive connections per host:
//
//   - arn functions: the SDK's default configuration (LoadDefaultConfig:
//     environment, shared config and credentials files, SSO, container
//     and instance roles) and the region of the ARN; the SDK's own
//     endpoint settings (AWS_ENDPOINT_URL_LAMBDA) apply. FunctionName is
//     the ARN, qualifier included.
//   - endpoint functions: BaseEndpoint = the endpoint, FunctionName =
//     function_name, signed with SigV4 when credentials are given and
//     unsigned (anonymous) otherwise; the signing region is the function's
//     region setting, else the region of function_name when that is an
//     ARN, else the config's region (a server that checks the credential
//     scope, as AWS and albedo do, wants its own region).
//
// Invoke is RequestResponse; ClientContext and Tail logs are passed on and
// the caller's trace id becomes X-Amzn-Trace-Id. Function.Timeout bounds
// the whole call, retries included. Invoke is not idempotent, so only a
// connection that could not be made is retried (3 attempts at most, 100
// ms apart at most), never a call the service may have run: a throttle or
// a 5xx is answered at once, as the ALB answers them. Response bodies over
// Lambda's 6 MB are refused (Function.ResponseSizeTooLarge).
//
// # Errors
//
// A function error is data (Response.FunctionError from
// X-Amz-Function-Error), as for local functions. Failures match the
// executor's sentinels, so that the balancer's one error→status function
// maps remote and local failures alike:
//
//	429                executor.ErrThrottled (*executor.ThrottleError, with Lambda's Reason)
//	404                executor.ErrFunctionNotFound
//	403                executor.ErrAccessDenied
//	no AWS credentials executor.ErrAccessDenied (start-up warns: CheckCredentials)
//	413                executor.ErrPayloadTooLarge
//	any other status   executor.ErrService
//	no HTTP answer     executor.ErrConnection
//	Timeout passed     context.DeadlineExceeded
//
// # Policies
//
// Client.Policy reads a function's resource policy once (GetPolicy, for
// policy_source: aws) and ParsePolicy turns the IAM document into the
// statements config.Allows evaluates; what it cannot evaluate is left out
// and reported, so the permission check fails closed.
//
// # Concurrency
//
// A Client is immutable after construction; a Router changes only its set
// of clients, whole, through SetClients (a config reload: a client is
// rebuilt only when its function's settings changed). Both are safe for
// concurrent use. Invoke retains nothing of req after it returns except
// through the SDK, which has finished with the payload by then.
package remote
