package invokeapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/internal/intake"
	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/async"
)

// Invoker runs invocations and describes the local functions. It is
// implemented by *executor.Pool.
type Invoker interface {
	Invoke(ctx context.Context, req executor.Request) (executor.Response, error)
	Function(name string) (executor.Function, bool)
	Functions() []executor.Function // sorted by name
}

// Queue is the durable asynchronous-invocation queue. It is implemented by
// *async.Queue.
type Queue interface {
	// Enqueue stores the event durably before it returns.
	Enqueue(ctx context.Context, function string, payload []byte) (requestID string, err error)
	// GetConfig returns false when no configuration is set (404 on GET).
	GetConfig(function string) (async.Config, bool)
	PutConfig(function string, c async.Config) (async.Config, error)
	DeleteConfig(function string) error
}

// Policies holds the functions' resource-based policies and their changes.
// It is implemented by *policy.Store; its errors are policy's sentinels.
type Policies interface {
	// Get returns the statements and the RevisionId.
	Get(function string) ([]config.Statement, string, error)
	// ARN returns the function ARN used in policy documents.
	ARN(function string) string
	// Add and Remove change the policy; revisionID, when not empty, must
	// be the current RevisionId. They return the new RevisionId.
	Add(function string, st config.Statement, revisionID string) (string, error)
	Remove(function, sid, revisionID string) (string, error)
}

// Options configures an API. Invoker is required.
type Options struct {
	Invoker Invoker
	// Queue receives Event invocations and stores event-invoke-configs.
	// nil: Event invocations and the event-invoke-config endpoints answer
	// 500 ServiceException.
	Queue Queue
	// Policies serves the policy API. nil: the policy endpoints answer 500
	// ServiceException.
	Policies Policies
	// Credentials, when set, make every request require a valid SigV4
	// signature made with them, scoped to service lambda and Region (403
	// AccessDeniedException otherwise). nil: no authentication; signed
	// requests are accepted unchecked, and only requests whose Host is
	// loopback or Address's host, without Origin, are served.
	Credentials *config.Credentials
	// Address is the admin listener's configured host:port; its host is
	// accepted in Host without credentials, besides localhost and
	// loopback addresses.
	Address string
	// BodyBudget caps the bytes held for request bodies, shared with the
	// process's listeners; a body beyond it gets 429
	// TooManyRequestsException. nil: no cap.
	BodyBudget *intake.Budget
	// Region and AccountID build function ARNs [us-east-1, 123456789012].
	Region, AccountID string
	// Logger receives albedo's own records (component=invokeapi). [discard]
	Logger *slog.Logger
	// Now is the clock (signature skew, LastModified). [time.Now]
	Now func() time.Time
	// BaseContext is the parent of every invocation's context; cancel it
	// on shutdown. [context.Background()]
	BaseContext context.Context
	// Routes are extra read-only endpoints served beside the API (see
	// Route); their paths must not be the API's.
	Routes []Route
	// OpsToken, when set, admits requests for the non-public Routes that
	// carry "Authorization: Bearer <OpsToken>".
	OpsToken string
}

// API is the Lambda control- and data-plane subset albedo serves on its
// admin listener. It is safe for concurrent use.
type API struct {
	inv       Invoker
	queue     Queue
	policies  Policies
	auth      *sigV4Verifier // nil = no authentication
	adminHost string         // Options.Address's host
	budget    *intake.Budget
	region    string
	account   string
	log       *slog.Logger
	now       func() time.Time
	baseCtx   context.Context
	started   time.Time // LastModified of every function
	routes    map[string]Route
	opsToken  string
}

// ErrNoInvoker is returned by New without Options.Invoker.
var ErrNoInvoker = errors.New("invokeapi: no invoker")

// New builds an API.
func New(opts Options) (*API, error) {
	if opts.Invoker == nil {
		return nil, ErrNoInvoker
	}
	a := &API{
		inv:      opts.Invoker,
		queue:    opts.Queue,
		policies: opts.Policies,
		region:   opts.Region,
		account:  opts.AccountID,
		log:      opts.Logger,
		now:      opts.Now,
		baseCtx:  opts.BaseContext,
	}
	if a.region == "" {
		a.region = "us-east-1"
	}
	if a.account == "" {
		a.account = "123456789012"
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("component", "invokeapi")
	if a.now == nil {
		a.now = time.Now
	}
	if a.baseCtx == nil {
		a.baseCtx = context.Background()
	}
	if c := opts.Credentials; c != nil {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, fmt.Errorf("invokeapi: credentials: %w", errEmptyCredentials)
		}
		a.auth = newSigV4Verifier(c.AccessKeyID, c.SecretAccessKey, a.region, a.now)
	}
	a.budget = opts.BodyBudget
	a.opsToken = opts.OpsToken
	a.routes = make(map[string]Route, len(opts.Routes))
	for _, r := range opts.Routes {
		a.routes[r.Path] = r
	}
	if h, _, err := net.SplitHostPort(opts.Address); err == nil {
		a.adminHost = h
	}
	a.started = a.now()
	return a, nil
}

var errEmptyCredentials = errors.New("invokeapi: access key id and secret access key are required")

// Path prefixes of the operations served.
const (
	prefixFunctions   = "/2015-03-31/functions/"
	prefixEventConfig = "/2019-09-25/functions/"
	prefixInvokeAsync = "/2014-11-13/functions/"
)

// Handle serves one admin request. It recovers from panics (500
// ServiceException) and answers unknown paths with 404
// UnknownOperationException.
//
// The head is checked first (checkHead: Host, Origin, the SigV4 header),
// then the declared size against the operation's limit, and only then is
// the body read, within the body budget; a signature is finished over the
// body before the operation runs. A request refused with its body unread
// is answered while the client may still be sending it (intake.Linger).
func (a *API) Handle(ctx *fasthttp.RequestCtx) {
	requestID := executor.NewRequestID()
	var body intake.Body
	defer func() {
		if p := recover(); p != nil {
			a.log.LogAttrs(context.Background(), slog.LevelError, "panic serving admin request",
				slog.String("request_id", requestID), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			writeError(ctx, errService("An internal error occurred."), requestID)
		}
		body.Release(&ctx.Request)
		intake.Done(ctx)
	}()
	if a.serveRoute(ctx, &body, requestID) {
		return
	}
	if e := a.admit(ctx, &body); e != nil {
		writeError(ctx, e, requestID)
		if bodyPending(&ctx.Request) {
			intake.Linger(ctx)
		}
		return
	}
	if e := a.route(ctx, requestID); e != nil {
		if e.Status >= 500 {
			a.log.LogAttrs(context.Background(), slog.LevelError, "admin request failed",
				slog.String("request_id", requestID), slog.String("path", string(ctx.Path())),
				slog.String("err", e.Error()))
		}
		writeError(ctx, e, requestID)
	}
}

// admit runs every check that precedes an operation: the head, the
// declared size, reading the body, the signature over it.
func (a *API) admit(ctx *fasthttp.RequestCtx, body *intake.Body) *apiError {
	head, e := a.checkHead(ctx)
	if e != nil {
		return e
	}
	limit, op := bodyLimit(ctx)
	if err := body.Read(&ctx.Request, limit, a.budget); err != nil {
		return bodyError(err, limit, op)
	}
	if a.auth != nil {
		return a.auth.verifyBody(ctx, head)
	}
	return nil
}

// bodyError is the answer to a body Body.Read refused: 413 over the
// operation's limit, 429 over the body budget, 400 or 408 when the client
// failed to send it.
func bodyError(err error, limit int, op string) *apiError {
	var ne net.Error
	switch {
	case errors.Is(err, intake.ErrTooLarge):
		return errTooLarge(0, limit, op)
	case errors.Is(err, intake.ErrBudget):
		e := newError(fasthttp.StatusTooManyRequests, excTooManyRequests,
			"Too many request bodies are being received at once (albedo's body_memory_budget is in use); retry later.")
		e.Reason = reasonCallerRateLimit
		return e
	case errors.As(err, &ne) && ne.Timeout():
		return newError(fasthttp.StatusRequestTimeout, excInvalidRequestContent, "The request body was not received in time.")
	}
	return newError(fasthttp.StatusBadRequest, excInvalidRequestContent, "The request body could not be read: the client stopped sending it.")
}

// route dispatches by path and method. A handler returns an *apiError to
// have it rendered, or writes its own success response.
func (a *API) route(ctx *fasthttp.RequestCtx, requestID string) *apiError {
	path := string(ctx.Path())
	method := string(ctx.Method())
	switch {
	case strings.HasPrefix(path, prefixFunctions):
		rest := path[len(prefixFunctions):]
		if rest == "" {
			if method == fasthttp.MethodGet {
				return a.listFunctions(ctx, requestID)
			}
			return errUnknownOperation()
		}
		name, sub, _ := strings.Cut(rest, "/")
		switch {
		case sub == "" && method == fasthttp.MethodGet:
			return a.getFunction(ctx, requestID, name, false)
		case sub == "configuration" && method == fasthttp.MethodGet:
			return a.getFunction(ctx, requestID, name, true)
		case sub == "invocations" && method == fasthttp.MethodPost:
			return a.invoke(ctx, requestID, name)
		case sub == "policy" && method == fasthttp.MethodPost:
			return a.addPermission(ctx, requestID, name)
		case sub == "policy" && method == fasthttp.MethodGet:
			return a.getPolicy(ctx, requestID, name)
		case strings.HasPrefix(sub, "policy/") && method == fasthttp.MethodDelete:
			return a.removePermission(ctx, requestID, name, sub[len("policy/"):])
		}
	case path == "/2015-03-31/functions" && method == fasthttp.MethodGet:
		return a.listFunctions(ctx, requestID)
	case strings.HasPrefix(path, prefixEventConfig):
		name, sub, _ := strings.Cut(path[len(prefixEventConfig):], "/")
		if sub == "event-invoke-config/list" && method == fasthttp.MethodGet {
			return a.listEventInvokeConfigs(ctx, requestID, name)
		}
		if sub == "event-invoke-config" {
			switch method {
			case fasthttp.MethodPut:
				return a.putEventInvokeConfig(ctx, requestID, name, false)
			case fasthttp.MethodPost:
				return a.putEventInvokeConfig(ctx, requestID, name, true)
			case fasthttp.MethodGet:
				return a.getEventInvokeConfig(ctx, requestID, name)
			case fasthttp.MethodDelete:
				return a.deleteEventInvokeConfig(ctx, requestID, name)
			}
		}
	case strings.HasPrefix(path, prefixInvokeAsync):
		name, sub, _ := strings.Cut(path[len(prefixInvokeAsync):], "/")
		if (sub == "invoke-async/" || sub == "invoke-async") && method == fasthttp.MethodPost {
			return a.invokeAsync(ctx, requestID, name)
		}
	}
	return errUnknownOperation()
}

func errUnknownOperation() *apiError {
	return newError(fasthttp.StatusNotFound, excUnknownOperation, "Unknown operation")
}

// resolve parses a FunctionName and finds the function. Only the
// unqualified function and $LATEST exist locally; a remote function is
// also found by its ARN.
func (a *API) resolve(ctx *fasthttp.RequestCtx, name string) (executor.Function, *apiError) {
	// A remote function is also found by its own ARN (as ListFunctions
	// shows it), whatever its region, account and qualifier.
	if strings.HasPrefix(name, "arn:") && len(ctx.QueryArgs().Peek("Qualifier")) == 0 {
		if fn, ok := a.inv.Function(name); ok && fn.ARN == name {
			return fn, nil
		}
	}
	ref, e := parseFunctionName(name, string(ctx.QueryArgs().Peek("Qualifier")))
	if e != nil {
		return executor.Function{}, e
	}
	if (ref.Region != "" && ref.Region != a.region) || (ref.Account != "" && ref.Account != a.account) {
		return executor.Function{}, errNotFound("Function not found: " + functionARN(
			orDefault(ref.Region, a.region), orDefault(ref.Account, a.account), ref.Name) + qualSuffix(ref.Qualifier))
	}
	if ref.Qualifier != "" && ref.Qualifier != latest {
		return executor.Function{}, errNotFound("Function not found: " + functionARN(a.region, a.account, ref.Name) + qualSuffix(ref.Qualifier))
	}
	fn, ok := a.inv.Function(ref.Name)
	if !ok {
		return executor.Function{}, errNotFound("Function not found: " + functionARN(a.region, a.account, ref.Name) + qualSuffix(ref.Qualifier))
	}
	return fn, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func qualSuffix(q string) string {
	if q == "" {
		return ""
	}
	return ":" + q
}

// arnOf is the function's ARN, built when the executor left it empty.
func (a *API) arnOf(fn executor.Function) string {
	if fn.ARN != "" {
		return fn.ARN
	}
	return functionARN(a.region, a.account, fn.Name)
}

// writeJSON answers status with a JSON body.
func writeJSON(ctx *fasthttp.RequestCtx, status int, requestID string, body []byte) {
	ctx.SetStatusCode(status)
	ctx.Response.Header.Set(headerRequestID, requestID)
	ctx.SetContentType(contentTypeJSON)
	ctx.Response.SetBodyRaw(body)
}

// writeEmpty answers status with no body and no Content-Type (Event's 202,
// DryRun's and the deletions' 204).
func writeEmpty(ctx *fasthttp.RequestCtx, status int, requestID string) {
	ctx.SetStatusCode(status)
	ctx.Response.Header.Set(headerRequestID, requestID)
	ctx.Response.Header.SetNoDefaultContentType(true)
}
