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
//   - AddPermission, GetPolicy, RemovePermission, backed by PolicyStore.
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
// API and PolicyStore are safe for concurrent use. Handle copies the
// payload out of the fasthttp request before it reaches the Invoker or the
// Queue and retains nothing of the RequestCtx. PolicyStore.Statements reads
// an immutable snapshot through an atomic pointer (no locks, no
// allocation); changes are serialised, written to bbolt and synced before
// the new snapshot is published, so a change is visible to the balancer's
// next request and survives a crash once the API has answered.
//
// # Design decisions
//
//   - Function names follow lambda.md §5.1: name, name:qualifier, partial
//     and full ARN, Qualifier query (must agree with the name's). Only the
//     unqualified function and $LATEST exist; any other qualifier, or an ARN
//     naming another region or account, is 404 ResourceNotFoundException
//     "Function not found: ARN". Malformed names are 400 ValidationException.
//     The policy and event-invoke-config operations treat $LATEST as the
//     unqualified function (one policy and one config per function).
//   - Remote functions (package remote) come through the Invoker like
//     local ones: ListFunctions and GetFunction show them with their own
//     ARN (no Runtime, no Code), Invoke and Event reach them through
//     albedo, and a FunctionName that is exactly a remote function's ARN
//     finds it, whatever its region, account and qualifier. Their
//     throttles and not-found answers are 429 and 404 as for local
//     functions; other failures of the remote service are 500
//     ServiceException naming the cause.
//   - Payload limits: 6 MB synchronous and DryRun, 1 MB Event (the current
//     limit; it was 256 KB until 2025) → 413 RequestTooLargeException. The
//     admin fasthttp.Server must allow MaxRequestBodySize bytes so that the
//     413 is Lambda's own, and use ReadBufferSize so long headers fit. A non-JSON payload is 400
//     InvalidRequestContentException. An empty payload is allowed and the
//     function receives "{}" (UNCONFIRMED: believed to be Lambda's behaviour).
//   - X-Amz-Client-Context must be at most 3583 bytes of base64 that decode
//     to a JSON object (aws-lambda-go fails the invoke otherwise), else 400
//     InvalidRequestContentException. It is passed on still base64-encoded
//     (executor.Request.ClientContext); it is ignored for Event.
//   - An unknown X-Amz-Invocation-Type is 415 UnsupportedMediaTypeException
//     (as the issue specifies). X-Amz-Tenant-Id is ignored.
//   - Throttles are 429 TooManyRequestsException with "Reason"; no
//     Retry-After is sent (retryAfterSeconds is UNCONFIRMED).
//   - The request id is the executor's for synchronous invokes, the queue's
//     for Event, and a fresh UUID otherwise, in X-Amzn-RequestId.
//   - Queue nil: Event invocations and the event-invoke-config endpoints
//     answer 500 ServiceException. Policies nil: the policy endpoints do.
//   - Authentication: with Options.Credentials every request (including
//     unknown paths) must carry a header-signed SigV4 request for that
//     access key, within 15 minutes of the server clock; it is verified by
//     re-signing a copy of the request with the SDK's own signer. Any
//     failure is 403 AccessDeniedException, as the issue specifies (AWS
//     itself uses UnrecognizedClientException / InvalidSignatureException
//     for some of these; the message texts follow AWS's). Any region and
//     service in the credential scope are accepted. The signature must
//     cover the body's SHA-256 (X-Amz-Content-Sha256: UNSIGNED-PAYLOAD is
//     refused, as Lambda, unlike S3, does not honour it). Presigned (query)
//     signatures are not supported, nor are clients that sign a header the
//     SDK signer never signs (User-Agent, Expect, X-Amzn-Trace-Id,
//     Transfer-Encoding; the AWS SDKs and CLI do not). Without Credentials,
//     Authorization is ignored, and a request carrying Origin (a browser
//     acting for some web page: cross-site "simple" POSTs need no CORS
//     preflight) is 403 AccessDeniedException; the SDKs and CLI never
//     send Origin.
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
//   - Persistence: PolicyStore keeps API changes in dir/policy.db, each
//     with a hash of the config file's statements for the function. On open
//     a record is kept only while that hash still matches; otherwise the
//     config file wins and the record is deleted. A config-only policy has
//     a RevisionId derived from that hash, so it is stable across restarts.
//     The revision number returned by Statements is process-local and
//     changes on every change; permission caches key on it.
//   - GetFunction reports LastModified as the API's start time, Version
//     $LATEST, State Active, Architectures of the host, Code as
//     {"RepositoryType":"Local","Location":"file://DIR"} and the reserved
//     concurrency when set.
//
// # Tests
//
// The tests drive every operation with aws-sdk-go-v2's Lambda client
// against Handle served on 127.0.0.1, over fake Invoker and Queue values,
// and end to end over a real executor.Pool and async.Queue running
// aws-lambda-go functions. internal/clientctx (reports the client context
// it received) and internal/albok (a minimal ALB response, for comparing
// the Invoke API with a listener) are built by the tests with go build.
package invokeapi
