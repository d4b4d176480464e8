package executor

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"
)

// invocation is one request on its way through an environment.
type invocation struct {
	id            string
	payload       []byte
	traceID       string
	clientContext string
	cognito       string
	wantTail      bool
	start         time.Time // delivery to the runtime
	deadline      time.Time
	done          chan result // the runtime's answer, sent once

	// guarded by env.mu
	delivered bool
	tail      []byte
}

// result is what came back from the runtime.
type result struct {
	payload       []byte
	functionError bool
	errorType     string // platform error type; "" for the function's own
	end           time.Time
	// for the REPORT line and platform log lines
	status  string // "timeout" | "error" | ""
	logLine string // "RequestId: … Error: …" for platform failures
}

// maxWarmRetries bounds how often an invocation moves on after picking an
// idle environment that died before taking it (a runtime that exits after
// answering, as aws-lambda-go does after a panic).
const maxWarmRetries = 8

// outcome is how an invocation ended: its Response (a function error
// included), or the Go error of an invocation that never reached a runtime
// or whose caller stopped waiting.
type outcome struct {
	resp Response
	err  error
}

// Invoke runs one invocation of req.Function and waits for its result.
// Failures inside the function (its own error, timeout, crash, out of
// memory, init failure, oversized response) are a Response with
// FunctionError set; Go errors mean the invocation never reached a runtime
// (ErrFunctionNotFound, *ThrottleError, ErrClosed, ErrPayloadTooLarge, a
// *BuildError) or ctx ended first. When ctx ends while the function runs,
// the invocation goes on in its environment until it finishes or times out.
//
// The steps: acquire an environment (an idle one, or room for a new one),
// start it when it is new, deliver the invocation to its runtime, await
// the answer.
func (p *Pool) Invoke(ctx context.Context, req Request) (Response, error) {
	fn, err := p.admit(ctx, req)
	if err != nil {
		return Response{}, err
	}
	defer p.inflight.Done()
	if err := p.build(ctx, fn); err != nil {
		return Response{}, fmt.Errorf("invoke %s: %w", req.Function, err)
	}
	inv := newInvocation(req)
	for attempt := 0; ; attempt++ {
		e, cold, err := p.acquire(fn)
		if err != nil {
			return Response{}, fmt.Errorf("invoke %s: %w", req.Function, err)
		}
		if cold {
			if end := p.start(ctx, e, inv); end != nil {
				return end.resp, end.err
			}
		}
		d := p.deliver(ctx, e, inv)
		if d.how == lost && !cold && attempt < maxWarmRetries {
			continue // the function never saw it: another environment gets it
		}
		end := p.await(ctx, e, inv, d, cold)
		return end.resp, end.err
	}
}

// admit checks req against the Pool (its function exists, its payload
// fits, ctx is alive, the Pool open) and counts it in flight; the caller
// owes p.inflight.Done() when it returns no error.
func (p *Pool) admit(ctx context.Context, req Request) (*function, error) {
	fn, ok := p.set.Load().lookup(req.Function)
	if !ok {
		return nil, fmt.Errorf("invoke %s: %w", req.Function, ErrFunctionNotFound)
	}
	if len(req.Payload) > MaxPayloadSize {
		return nil, fmt.Errorf("invoke %s: %d bytes: %w", req.Function, len(req.Payload), ErrPayloadTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("invoke %s: %w", req.Function, ErrClosed)
	}
	p.inflight.Add(1)
	return fn, nil
}

// newInvocation is req on its way to a runtime: its request id and trace
// header (generated when req has none), its client context decoded.
func newInvocation(req Request) *invocation {
	inv := &invocation{
		id:       req.RequestID,
		payload:  req.Payload,
		traceID:  req.TraceID,
		cognito:  req.CognitoIdentity,
		wantTail: req.TailLog,
		done:     make(chan result, 1),
	}
	if inv.id == "" {
		inv.id = newRequestID()
	}
	if inv.traceID == "" {
		inv.traceID = newTraceID(time.Now())
	}
	if req.ClientContext != "" {
		// Callers send it base64-encoded; runtimes receive the JSON.
		if b, err := base64.StdEncoding.DecodeString(req.ClientContext); err == nil {
			inv.clientContext = string(b)
		} else {
			inv.clientContext = req.ClientContext
		}
	}
	return inv
}

// exitResult describes a runtime that exited (or was killed) during inv.
func (p *Pool) exitResult(e *env, inv *invocation) result {
	<-e.dead
	e.mu.Lock()
	desc := e.exitDesc
	e.mu.Unlock()
	msg := "Runtime exited with error: " + desc
	if desc == "exit status 0" {
		msg = "Runtime exited without providing a reason"
	}
	typ := ErrorTypeExit
	switch stopReason(e.reason.Load()) {
	case reasonOutOfMemory:
		// Lambda reports a provided runtime killed for memory as any
		// other exit (Runtime.ExitError, "signal: killed").
		p.stats.outOfMemory.Add(1)
	case reasonExtensionCrash:
		e.mu.Lock()
		if x := e.crashed; x != nil {
			typ, msg = ErrorTypeExtensionCrash, "Extension "+x.name+" exited: "+x.exitDesc
		}
		e.mu.Unlock()
	}
	return platformResult(inv.id, typ, msg)
}

// platformResult is a failure detected by albedo, not reported by the
// function.
func platformResult(id, typ, msg string) result {
	r := platformError(id, typ, msg)
	return result{
		payload:       r.Payload,
		functionError: true,
		errorType:     typ,
		end:           time.Now(),
		status:        "error",
		logLine:       "RequestId: " + id + " Error: " + msg,
	}
}
