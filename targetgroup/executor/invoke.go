package executor

import (
	"context"
	"encoding/base64"
	"errors"
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

// Invoke runs one invocation of req.Function and waits for its result.
// Failures inside the function (its own error, timeout, crash, out of
// memory, init failure, oversized response) are a Response with
// FunctionError set; Go errors mean the invocation never reached a runtime
// (ErrFunctionNotFound, *ThrottleError, ErrClosed, ErrPayloadTooLarge, a
// *BuildError) or ctx ended first. When ctx ends while the function runs,
// the invocation goes on in its environment until it finishes or times out.
func (p *Pool) Invoke(ctx context.Context, req Request) (Response, error) {
	fn, ok := p.set.Load().lookup(req.Function)
	if !ok {
		return Response{}, fmt.Errorf("invoke %s: %w", req.Function, ErrFunctionNotFound)
	}
	if len(req.Payload) > MaxPayloadSize {
		return Response{}, fmt.Errorf("invoke %s: %d bytes: %w", req.Function, len(req.Payload), ErrPayloadTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return Response{}, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return Response{}, fmt.Errorf("invoke %s: %w", req.Function, ErrClosed)
	}
	p.inflight.Add(1)
	p.mu.Unlock()
	handedOff := false
	defer func() {
		if !handedOff {
			p.inflight.Done()
		}
	}()

	if err := p.build(ctx, fn); err != nil {
		return Response{}, fmt.Errorf("invoke %s: %w", req.Function, err)
	}
	id := req.RequestID
	if id == "" {
		id = newRequestID()
	}
	inv := &invocation{
		id:       id,
		payload:  req.Payload,
		traceID:  req.TraceID,
		cognito:  req.CognitoIdentity,
		wantTail: req.TailLog,
		done:     make(chan result, 1),
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

	for attempt := 0; ; attempt++ {
		e, cold, err := p.acquire(fn)
		if err != nil {
			return Response{}, fmt.Errorf("invoke %s: %w", req.Function, err)
		}
		if cold {
			p.stats.coldStarts.Add(1)
			fn.m.coldStart()
			e.mu.Lock()
			e.logInv = inv // init output belongs to the invocation that caused it
			e.mu.Unlock()
			if err := e.launch(); err != nil {
				if errors.Is(err, ErrClosed) {
					return Response{}, fmt.Errorf("invoke %s: %w", req.Function, err)
				}
				p.stats.initFailures.Add(1)
				return p.finishUnstarted(e, inv, launchResult(e, inv, err)), nil
			}
			if res, ok, err := p.awaitInit(ctx, e, inv); !ok {
				if err != nil {
					handedOff = true
				}
				return res, err
			}
		}
		res, answered, delivered, err := p.deliver(ctx, e, inv)
		if err != nil {
			return Response{}, err
		}
		if !delivered {
			if cold || attempt >= maxWarmRetries {
				// It died between init and the hand-off.
				p.stats.crashes.Add(1)
				return p.complete(e, inv, p.exitResult(e, inv), cold), nil
			}
			continue
		}
		p.stats.invocations.Add(1)
		if answered {
			return p.complete(e, inv, res, cold), nil
		}
		res, waited := p.await(ctx.Done(), e, inv)
		if !waited {
			handedOff = true
			go func() {
				defer p.inflight.Done()
				res, _ := p.await(nil, e, inv)
				p.complete(e, inv, res, cold)
			}()
			return Response{}, ctx.Err()
		}
		return p.complete(e, inv, res, cold), nil
	}
}

// launchResult is the function error of an environment that could not
// start: an *initFailure, or a runtime executable that would not run.
func launchResult(e *env, inv *invocation, err error) result {
	var f *initFailure
	if !errors.As(err, &f) {
		e.log.Warn("runtime did not start", "err", err)
		return platformResult(inv.id, ErrorTypeInvalidEntry, "Couldn't find valid bootstrap(s): "+err.Error())
	}
	e.log.Warn("environment init failed", "error_type", f.typ, "err", f.msg)
	if f.body != nil {
		return result{payload: f.body, functionError: true, errorType: f.typ, end: time.Now(), status: "error"}
	}
	r := platformResult(inv.id, f.typ, f.msg)
	if f.typ == ErrorTypeTimeout {
		r.status = "timeout"
	}
	return r
}

// awaitInit waits until a new environment's init ends (the runtime's first
// /next and every extension's first event/next). ok is false when init
// failed (res holds the function error) or ctx ended (err).
func (p *Pool) awaitInit(ctx context.Context, e *env, inv *invocation) (res Response, ok bool, err error) {
	t := time.NewTimer(time.Until(e.start.Add(p.opts.InitTimeout)))
	defer t.Stop()
	select {
	case <-e.ready:
		p.logExtensions(e, inv)
		return Response{}, true, nil
	case <-e.initFailed:
	case <-e.dead:
	case <-t.C:
		e.kill(reasonInitTimeout)
		p.stats.initFailures.Add(1)
		r := platformResult(inv.id, ErrorTypeTimeout, "Init phase timed out after "+seconds(p.opts.InitTimeout))
		r.status = "timeout"
		return p.finishUnstarted(e, inv, r), false, nil
	case <-ctx.Done():
		// Let the environment finish its init and join the idle ones.
		go p.adopt(e)
		return Response{}, false, ctx.Err()
	}
	p.stats.initFailures.Add(1)
	select {
	case <-e.initFailed:
		e.kill(reasonInitFailed)
		e.mu.Lock()
		r := result{payload: e.initErr, functionError: true, errorType: e.initErrType, end: time.Now(), status: "error"}
		e.mu.Unlock()
		return p.finishUnstarted(e, inv, r), false, nil
	default:
	}
	<-e.dead
	select {
	case <-e.ready: // it called /next, then died
	default:
	}
	return p.finishUnstarted(e, inv, p.exitResult(e, inv)), false, nil
}

// adopt waits in the background for an environment whose invocation went
// away during init, and keeps it when init succeeds.
func (p *Pool) adopt(e *env) {
	defer p.inflight.Done()
	t := time.NewTimer(p.opts.InitTimeout)
	defer t.Stop()
	select {
	case <-e.ready:
		p.release(e)
	case <-e.initFailed:
		e.kill(reasonInitFailed)
	case <-e.dead:
	case <-t.C:
		e.kill(reasonInitTimeout)
	}
}

// deliver hands inv to the environment's /next: at once when one is
// parked (the common, warm case, written on this goroutine), else when the
// runtime comes back to /next. delivered is false when the environment
// died first. When the runtime took inv and answered before deliver
// returned, answered is true and res is the answer (one wake-up instead of
// two); otherwise await has the rest.
func (p *Pool) deliver(ctx context.Context, e *env, inv *invocation) (res result, answered, delivered bool, err error) {
	inv.start = time.Now()
	inv.deadline = inv.start.Add(e.fn.cfg.Timeout)
	if !e.isDead() && e.handOff(inv) {
		return result{}, false, true, nil
	}
	// A runtime still busy after answering gets one function timeout to
	// come back to /next (Lambda bills and times it as part of the previous
	// invocation); after that it is stuck and goes. The invocation's own
	// deadline is the same instant, so once the runtime took it, the
	// timer's expiry is its timeout (await sees it).
	t := time.NewTimer(e.fn.cfg.Timeout)
	defer t.Stop()
	select {
	case res = <-inv.done:
		return res, true, true, nil
	case <-e.dead:
	case <-t.C:
		if !e.isDelivered(inv) {
			e.log.Warn("runtime did not return to /next within the function timeout")
			e.kill(reasonTimeout)
			<-e.dead
		}
	case <-ctx.Done():
		err = ctx.Err()
	}
	e.mu.Lock()
	if inv.delivered { // await takes it from here
		e.mu.Unlock()
		return result{}, false, true, nil
	}
	if e.current == inv {
		e.current = nil
	}
	e.mu.Unlock()
	if err != nil {
		p.release(e)
	}
	return result{}, false, false, err
}

func (e *env) isDelivered(inv *invocation) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return inv.delivered
}

// await waits for the runtime's answer, the deadline or the environment's
// death. waited is false when stop closed first.
func (p *Pool) await(stop <-chan struct{}, e *env, inv *invocation) (res result, waited bool) {
	t := time.NewTimer(time.Until(inv.deadline))
	defer t.Stop()
	select {
	case res = <-inv.done:
		return res, true
	case <-stop:
		return result{}, false
	case <-t.C:
		if e.claim(inv) {
			e.kill(reasonTimeout)
			p.stats.timeouts.Add(1)
			r := platformResult(inv.id, ErrorTypeTimeout, "Task timed out after "+seconds(e.fn.cfg.Timeout))
			r.status = "timeout"
			r.end = inv.deadline
			return r, true
		}
	case <-e.dead:
		if e.claim(inv) {
			p.stats.crashes.Add(1)
			return p.exitResult(e, inv), true
		}
	}
	return <-inv.done, true
}

// claim takes the outcome of inv away from the Runtime API handlers.
func (e *env) claim(inv *invocation) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.current != inv {
		return false
	}
	e.current = nil
	e.lastID = inv.id
	return true
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
