// Package targetgroup implements ALB target groups of type lambda: each
// Group has (at most) one function target, and Forward runs one request
// through it the way an ALB does:
//
//  1. check the invoke permission: the function's resource-based policy must
//     allow elasticloadbalancing.amazonaws.com from the group's ARN. The
//     evaluation is config.Allows, the same code `albedo validate` runs; the
//     statements come from a Policies source (the policy API can change them
//     at run time) with a revision that grows on every change; each group
//     keeps its last decision and its revision in an atomic pointer, so a
//     policy change takes effect on the very next request, and the steady
//     state evaluates nothing and takes no lock;
//  2. encode the ALB Lambda event (lambdaadapter) into a fresh buffer whose
//     ownership passes to the executor;
//  3. invoke the function (an Invoker, in production *executor.Pool);
//  4. decode the function's answer into the client response (lambdaadapter).
//
// Every failure is returned as an error (sentinels in errors.go, a
// *FunctionError for failures inside the function, a
// *lambdaadapter.ResponseError for an answer the ALB would refuse); the
// balancer maps them to client statuses in one place. This package never
// writes a status code for an error.
//
// Health (health.go): HealthChecker runs the enabled health checks and
// Describe reports every group's target as DescribeTargetHealth does
// (initial, healthy, unhealthy with Target.ResponseCodeMismatch,
// Target.Timeout or Target.FailedHealthChecks, unused when no rule
// forwards to the group, unavailable when checks are disabled).
//
// Metrics (metrics.go, Options.Metrics, one per process): the bytes of
// events and answers per group, health checks by result, and each target's
// health state, read from the latest HealthChecker at scrape time.
//
// Concurrency: a Group is immutable after New and safe for concurrent use.
// Forward runs synchronously inside the fasthttp handler and retains
// nothing of req, resp or conn after it returns.
package targetgroup
