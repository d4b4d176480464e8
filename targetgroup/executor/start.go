package executor

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// start launches the new environment e for inv and waits for its init.
// nil means e is ready for inv; otherwise inv ended: e failed to start or
// initialise (a function error), the Pool closed, or ctx ended (e then
// finishes its init in the background and joins the idle ones).
func (p *Pool) start(ctx context.Context, e *env, inv *invocation) *outcome {
	p.stats.coldStarts.Add(1)
	e.fn.m.coldStart()
	e.mu.Lock()
	e.logInv = inv // init output belongs to the invocation that caused it
	e.mu.Unlock()
	if err := e.launch(); err != nil {
		if errors.Is(err, ErrClosed) {
			return &outcome{err: fmt.Errorf("invoke %s: %w", e.fn.cfg.Name, err)}
		}
		p.stats.initFailures.Add(1)
		return &outcome{resp: p.finishUnstarted(e, inv, launchResult(e, inv, err))}
	}
	return p.awaitInit(ctx, e, inv)
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
// /next and every extension's first event/next). nil means it did;
// otherwise inv ended: init failed (a function error) or ctx ended.
func (p *Pool) awaitInit(ctx context.Context, e *env, inv *invocation) *outcome {
	t := time.NewTimer(time.Until(e.start.Add(p.opts.InitTimeout)))
	defer t.Stop()
	select {
	case <-e.ready:
		p.logExtensions(e, inv)
		return nil
	case <-e.initFailed:
	case <-e.dead:
	case <-t.C:
		e.kill(reasonInitTimeout)
		p.stats.initFailures.Add(1)
		r := platformResult(inv.id, ErrorTypeTimeout, "Init phase timed out after "+seconds(p.opts.InitTimeout))
		r.status = "timeout"
		return &outcome{resp: p.finishUnstarted(e, inv, r)}
	case <-ctx.Done():
		// Let the environment finish its init and join the idle ones.
		p.inflight.Add(1)
		go p.adopt(e)
		return &outcome{err: ctx.Err()}
	}
	p.stats.initFailures.Add(1)
	select {
	case <-e.initFailed:
		e.kill(reasonInitFailed)
		e.mu.Lock()
		r := result{payload: e.initErr, functionError: true, errorType: e.initErrType, end: time.Now(), status: "error"}
		e.mu.Unlock()
		return &outcome{resp: p.finishUnstarted(e, inv, r)}
	default:
	}
	<-e.dead
	return &outcome{resp: p.finishUnstarted(e, inv, p.exitResult(e, inv))}
}

// adopt waits in the background for an environment whose invocation went
// away during init, and keeps it when init succeeds. The caller counted it
// in p.inflight.
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
