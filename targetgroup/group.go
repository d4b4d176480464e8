package targetgroup

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/lambdaadapter"
	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// Invoker runs one invocation. A function error is a successful call with
// Response.FunctionError set. *executor.Pool implements it.
type Invoker interface {
	Invoke(ctx context.Context, req executor.Request) (executor.Response, error)
}

// Options are shared by every group of one balancer.
type Options struct {
	Invoker Invoker
	// Policies supplies the functions' statements; nil serves the config
	// file's statements.
	Policies Policies
	// Encoder builds events; nil uses a zero Encoder (real clock, random
	// trace ids).
	Encoder *lambdaadapter.Encoder
	Logger  *slog.Logger
	// Metrics receives the groups' Prometheus metrics; one per process,
	// given every time groups are built. nil counts nothing.
	Metrics *Metrics
}

// Group is one Lambda target group.
type Group struct {
	name       string
	arn        string
	function   string // "" = no registered target
	multiValue bool

	inv     Invoker
	pol     Policies
	enc     *lambdaadapter.Encoder
	account string // the config's account, for policies' source_account
	// lastPerm is the group's last permission decision (see permitted).
	lastPerm atomic.Pointer[decision]
	m        *groupMetrics // nil without Options.Metrics
}

// New builds every target group of cfg, keyed by name.
func New(cfg *config.Config, opts Options) (map[string]*Group, error) {
	if opts.Invoker == nil {
		return nil, fmt.Errorf("targetgroup: no invoker")
	}
	pol := opts.Policies
	if pol == nil {
		static := StaticPolicies{}
		for _, f := range cfg.Functions {
			static[f.Name] = f.Policy
		}
		pol = static
	}
	enc := opts.Encoder
	if enc == nil {
		enc = &lambdaadapter.Encoder{}
	}
	groups := make(map[string]*Group, len(cfg.TargetGroups))
	for _, tg := range cfg.TargetGroups {
		groups[tg.Name] = &Group{
			name:       tg.Name,
			arn:        tg.ARN,
			function:   tg.Function,
			multiValue: tg.MultiValueHeaders,
			inv:        opts.Invoker,
			pol:        pol,
			enc:        enc,
			account:    cfg.AccountID,
			m:          opts.Metrics.group(tg.Name),
		}
	}
	return groups, nil
}

// Name is the group's name.
func (g *Group) Name() string { return g.name }

// ARN is the group's ARN, as found in every event's requestContext.
func (g *Group) ARN() string { return g.arn }

// Function is the name of the group's target function ("" when none).
func (g *Group) Function() string { return g.function }

// Forward sends req to the group's function and writes its answer into
// resp. conn carries the connection facts; the group fills in its ARN and
// multi-value mode. ctx bounds the wait (the function's own timeout is the
// executor's).
func (g *Group) Forward(ctx context.Context, req *fasthttp.Request, conn lambdaadapter.Conn, resp *fasthttp.Response) error {
	if g.function == "" {
		return ErrNoTargets
	}
	if !g.permitted() {
		return fmt.Errorf("forward to %s: %w", g.name, ErrAccessDenied)
	}
	conn.TargetGroupARN = g.arn
	conn.MultiValue = g.multiValue
	// The payload is not pooled: its ownership passes to the executor,
	// which may still be writing it to a runtime when Invoke returns on a
	// timeout.
	var traceBuf [128]byte
	payload, trace := g.enc.AppendEventTrace(make([]byte, 0, eventSizeHint(req)), traceBuf[:0], req, &conn)
	// The header as the ALB passed it on, for the balancer's access log
	// (Forwarder's contract).
	req.Header.SetBytesV(traceHeader, trace)
	// The function's Lambda-Runtime-Trace-Id (and _X_AMZN_TRACE_ID) is the
	// X-Amzn-Trace-Id the ALB put into the event, as on AWS where the ALB
	// passes its trace header to the invocation.
	out, err := g.inv.Invoke(ctx, executor.Request{Function: g.function, Payload: payload, TraceID: string(trace)})
	g.m.bytes(len(payload), len(out.Payload))
	if err != nil {
		return fmt.Errorf("forward to %s: %w", g.name, err)
	}
	if out.FunctionError != "" {
		if out.ErrorType == executor.ErrorTypeResponseTooLarge {
			// Over Lambda's 6 MB payload limit, so over the ALB's 1 MB
			// too: the ALB's reason is LambdaResponseTooLarge, as for a
			// payload DecodeResponse refuses by size.
			return &lambdaadapter.ResponseError{Reason: lambdaadapter.ReasonResponseTooLarge,
				Detail: "function " + g.function + ": response over Lambda's payload limit"}
		}
		return functionError(g.function, out)
	}
	return lambdaadapter.DecodeResponse(out.Payload, g.multiValue, resp)
}

// eventSizeHint guesses the event size so the encoder rarely regrows: the
// raw header block plus a quarter for JSON quoting, a third for base64
// growth of the body, and the fixed fields. It reads lengths only:
// Header.Len would walk every header and parse every cookie.
func eventSizeHint(req *fasthttp.Request) int {
	h := len(req.Header.RawHeaders())
	if h == 0 { // a request built in code
		h = req.Header.Len() * 64
	}
	n := len(req.Body())
	return 1024 + len(req.Header.RequestURI()) + h + h/4 + n + n/3
}

// Bounds of what a FunctionError takes from the function's error payload
// (it goes into log lines): a payload over maxErrorPayload is not parsed,
// and errorType and errorMessage are cut to their maximum.
const (
	maxErrorPayload = 1 << 20
	maxErrorType    = 256
	maxErrorMessage = 2048
)

// functionError turns an error payload ({"errorType","errorMessage"}) into
// a *FunctionError.
func functionError(function string, out executor.Response) error {
	var body struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	if len(out.Payload) <= maxErrorPayload {
		_ = json.Unmarshal(out.Payload, &body) // a malformed error body still is an error
	} else {
		body.Message = "(error payload of " + strconv.Itoa(len(out.Payload)) + " bytes, not read)"
	}
	if out.ErrorType != "" {
		body.Type = out.ErrorType
	}
	if body.Type == "" {
		body.Type = out.FunctionError
	}
	return &FunctionError{Function: function, Type: truncate(body.Type, maxErrorType), Message: truncate(body.Message, maxErrorMessage)}
}

// truncate cuts s to at most n bytes, at a character boundary, marking the
// cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

const traceHeader = "X-Amzn-Trace-Id"
