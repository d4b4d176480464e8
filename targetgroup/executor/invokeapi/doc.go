// Package invokeapi serves the Lambda Invoke API, the functions API, the
// resource-policy API and the event-invoke-config API on albedo's admin
// listener, so the AWS SDKs and CLI work unchanged against local functions.
//
// # Operations
//
//   - Invoke, POST /2015-03-31/functions/{name}/invocations:
//     RequestResponse (200, function errors as 200 + X-Amz-Function-Error),
//     Event (202 once the Queue has stored the event durably), DryRun (204
//     after the checks). InvokeAsync (POST /2014-11-13/…/invoke-async/) is
//     an Event invocation.
//   - ListFunctions, GetFunction, GetFunctionConfiguration.
//   - AddPermission, GetPolicy, RemovePermission, over Options.Policies
//     (a *policy.Store, which also keeps and persists the policies).
//   - Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s), delegated to
//     Queue.
//
// Errors are Lambda's: status, X-Amzn-ErrorType and a JSON body with Type
// ("User" below 500, "Service" from 500) and the message under the member
// name Lambda's model uses ("Message" for ResourceNotFoundException and
// ServiceException, "message" otherwise), so the SDKs produce their typed
// errors. Unknown paths get 404 UnknownOperationException.
//
// # Concurrency
//
// API and Server are safe for concurrent use. Handle copies the payload out of the
// fasthttp request before it reaches the Invoker or the Queue and retains
// nothing of the RequestCtx. A policy change is answered once the Policies
// implementation has made it durable and visible (package policy).
//
// # Design decisions
//
//   - Function names follow Invoke's FunctionName ("URI Request
//     Parameters", https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_RequestParameters):
//     name, name:qualifier, partial and full ARN, Qualifier query (must
//     agree with the name's). Only the
//     unqualified function and $LATEST exist; any other qualifier, or an ARN
//     naming another region or account, is 404 ResourceNotFoundException
//     "Function not found: ARN". Malformed names are 400 ValidationException.
//     The policy and event-invoke-config operations treat $LATEST as the
//     unqualified function (one policy and one config per function).
//   - The admin server is API.NewServer: bodies are streamed (intake,
//     StreamRequestBody with a 1-byte prefetch) and read by Handle only
//     after the head was admitted, into a buffer that grows with the
//     bytes that arrive, within the process's body budget
//     (Options.BodyBudget, body_memory_budget, shared with the
//     listeners); a body beyond it is 429 TooManyRequestsException,
//     Reason CallerRateLimitExceeded (the SDKs retry it), counted in the
//     budget's Stats. Headers may fill ReadBufferSize (16 KB). A header
//     block ending with a bare LF is 400 at once (fasthttp alone waits
//     60 s for a CRLF CRLF); other requests fasthttp cannot read are 400
//     (408 when too slow), all in Lambda's error shape.
//   - Remote functions (package remote) come through the Invoker like
//     local ones: ListFunctions and GetFunction show them with their own
//     ARN (no Runtime, no Code), Invoke and Event reach them through
//     albedo, and a FunctionName that is exactly a remote function's ARN
//     finds it, whatever its region, account and qualifier. Their
//     throttles and not-found answers are 429 and 404 as for local
//     functions; no answer within the function's timeout is a
//     Sandbox.Timedout function error (200, Unhandled), as for a local
//     function that ran out of time, so that no SDK retries it; other
//     failures of the remote service are 500 ServiceException naming the
//     cause.
//   - Payload limits: 6 MB synchronous and DryRun, 1 MB Event (the current
//     limit; it was 256 KB until 2025), 1 MB for the other operations →
//     413 RequestTooLargeException, decided from Content-Length before
//     any of the body is read (as soon as a chunked body passes the
//     limit), at any size. With "Expect: 100-continue" (curl sends it for
//     large bodies) the 413 replaces "100 Continue"; without it (the AWS
//     SDKs and CLI never send it for Lambda) the 413 is sent while the
//     client is still sending, and the connection is drained for up to
//     2 s before it is closed, so the client reads the 413 rather than a
//     reset (intake.Linger). A non-JSON payload is 400
//     InvalidRequestContentException. An empty payload is allowed and the
//     function receives "{}" (UNCONFIRMED: believed to be Lambda's behaviour).
//   - X-Amz-Client-Context must be at most 3583 bytes of base64 that decode
//     to a JSON object (aws-lambda-go fails the invoke otherwise), else 400
//     InvalidRequestContentException. It is passed on still base64-encoded
//     (executor.Request.ClientContext); it is ignored for Event.
//   - An unknown X-Amz-Invocation-Type is 415 UnsupportedMediaTypeException
//     (albedo's requirement; not taken from Lambda). X-Amz-Tenant-Id is
//     ignored.
//   - Throttles are 429 TooManyRequestsException with "Reason"; no
//     Retry-After is sent (retryAfterSeconds is UNCONFIRMED).
//   - The request id is the executor's for synchronous invokes, the queue's
//     for Event, and a fresh UUID otherwise, in X-Amzn-RequestId.
//   - Queue nil: Event invocations and the event-invoke-config endpoints
//     answer 500 ServiceException. Policies nil: the policy endpoints do.
//   - Authentication: with Options.Credentials every request (including
//     unknown paths) must carry a header-signed SigV4 request for that
//     access key, scoped to service "lambda" and Options.Region (a
//     signature made for s3 or another region is refused, with AWS's
//     messages), within 15 minutes of the server clock. Everything but
//     the payload hash is checked from the head, before any of the body
//     is read (and before "100 Continue"); then the body's SHA-256 and
//     the signature, recomputed by re-signing a copy of the request with
//     the SDK's own signer. Any failure is 403 AccessDeniedException, as
//     albedo's requirements specify (AWS itself uses UnrecognizedClientException /
//     InvalidSignatureException for some of these; the message texts
//     follow AWS's). The signature must cover the body's SHA-256
//     (X-Amz-Content-Sha256: UNSIGNED-PAYLOAD is refused, as Lambda,
//     unlike S3, does not honour it). Every X-Amz-* header sent must be
//     signed (S3's rule; the AWS SDKs and CLI sign every one they send):
//     otherwise a signed request seen on the wire could be sent again
//     within its 15 minutes with an added X-Amz-Log-Type: Tail (the
//     function's log), X-Amz-Invocation-Type or X-Amz-Client-Context.
//     Presigned (query) signatures are not
//     supported, nor are clients that sign a header the SDK signer never
//     signs (User-Agent, Expect, X-Amzn-Trace-Id, Transfer-Encoding; the
//     AWS SDKs and CLI do not). Without Credentials, Authorization is
//     ignored, and two kinds of browser request are 403
//     AccessDeniedException: one whose Host is not localhost, a loopback
//     address (127.0.0.0/8, ::1; with or without port) or the host of
//     Options.Address (a page whose DNS name was re-pointed at this
//     address, DNS rebinding, is same-origin and sends no Origin on a
//     GET), and one carrying Origin (a browser acting for some web page:
//     cross-site "simple" POSTs need no CORS preflight); the SDKs and CLI
//     send the endpoint's host and never Origin.
//   - Extra routes (Options.Routes, routes.go): read-only endpoints the
//     caller serves beside the API by exact path, GET and HEAD only (405
//     otherwise), without this package knowing what they are (cmd/albedo
//     mounts /metrics, /healthz, /readyz, /targetgroups). A Public route
//     is open to every client and must reveal nothing (liveness,
//     readiness). Any other route is admitted as the API is (the SigV4
//     signature with Credentials, the Host and Origin checks without), or
//     by "Authorization: Bearer <Options.OpsToken>" from any host: a
//     Prometheus scraper can send a bearer token but cannot sign SigV4,
//     and the token opens nothing but these read-only routes.
//   - Response header names are written in fasthttp's canonical case
//     (X-Amzn-Requestid); the admin server must keep header-name
//     normalising on, since request headers are looked up by their
//     canonical names.
//   - Event-invoke-config: PUT replaces (omitted settings take Lambda's
//     defaults: 2 retries, 21600 s), POST merges. Destinations are passed
//     to the Queue as given (function name or ARN, or file://PATH, which
//     the Queue limits to .jsonl files in the state directory and the
//     config file's own destinations); its validation errors are 400
//     InvalidParameterValueException.
//     FunctionArn is reported with ":$LATEST", LastModified in epoch seconds.
//   - Policies: AddPermission supports StatementId, Action, Principal,
//     SourceArn, SourceAccount and RevisionId; the other members
//     (PrincipalOrgID, EventSourceToken, FunctionUrlAuthType…) are 400
//     InvalidParameterValueException rather than silently widened grants.
//     The principal is stored as given and rendered as AWS does: service
//     → {"Service":…}, account id → {"AWS":"arn:aws:iam::ID:root"}, ARN →
//     {"AWS":…}, "*" → "*"; SourceArn as ArnLike, SourceAccount as
//     StringEquals. GetPolicy on an empty policy is 404. RevisionId
//     preconditions are 412 PreconditionFailedException. Documents are
//     limited to 20 KB (PolicyLengthExceededException).
//   - Persistence of policy changes, and their precedence over the config
//     file, belong to package policy.
//   - GetFunction reports LastModified as the API's start time, Version
//     $LATEST, State Active, Architectures of the host, Code as
//     {"RepositoryType":"Local","Location":"file://DIR"} and the reserved
//     concurrency when set.
//
// # Tests
//
// The tests drive every operation with aws-sdk-go-v2's Lambda client
// against Handle served on 127.0.0.1, over fake Invoker and Queue values,
// and end to end over a real executor.Pool and async.Queue running the
// aws-lambda-go functions of ../testfunctions (built by exectest). Like the
// package, they import nothing of the target groups, the balancer or the
// ALB codec: the tests that combine the API with those (a policy change
// reaching a target group; the Invoke API against a listener) live in
// cmd/albedo.
package invokeapi
