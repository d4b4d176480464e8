package executor

import (
	"context"
	"time"
)

// handover says how deliver left an invocation.
type handover int

const (
	handedOver handover = iota // the runtime took it; its answer is to come
	answered                   // the runtime took it and answered: delivery.res
	lost                       // the environment died before it took it
	withdrawn                  // ctx ended before the runtime took it
)

// delivery is what deliver achieved.
type delivery struct {
	how handover
	res result // when answered
	err error  // when withdrawn: ctx's error
}

// deliver hands inv to the environment's /next: at once when one is
// parked (the common, warm case, written on this goroutine), else when the
// runtime comes back to /next. When the runtime took inv and answered
// before deliver returned, the delivery holds the answer (one wake-up
// instead of two); otherwise await has the rest.
func (p *Pool) deliver(ctx context.Context, e *env, inv *invocation) delivery {
	inv.start = time.Now()
	inv.deadline = inv.start.Add(e.fn.cfg.Timeout)
	if !e.isDead() && e.handOff(inv) {
		return delivery{how: handedOver}
	}
	// A runtime still busy after answering gets one function timeout to
	// come back to /next (Lambda bills and times it as part of the previous
	// invocation); after that it is stuck and goes. The invocation's own
	// deadline is the same instant, so once the runtime took it, the
	// timer's expiry is its timeout (await sees it).
	t := e.invTimer
	t.Reset(e.fn.cfg.Timeout)
	var err error
	select {
	case res := <-inv.done:
		t.Stop()
		return delivery{how: answered, res: res}
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
	// Stopped here, not deferred: once released below, the environment's
	// next invocation resets it.
	t.Stop()
	e.mu.Lock()
	if inv.delivered { // await takes it from here
		e.mu.Unlock()
		return delivery{how: handedOver}
	}
	if e.current == inv {
		e.current = nil
	}
	e.mu.Unlock()
	if err != nil {
		p.release(e)
		return delivery{how: withdrawn, err: err}
	}
	return delivery{how: lost}
}

func (e *env) isDelivered(inv *invocation) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return inv.delivered
}

// await ends inv after deliver left it as d: it waits for the runtime's
// answer, the deadline or the environment's death, and completes the
// invocation. When ctx ends first the invocation goes on in the
// background and await returns ctx's error.
func (p *Pool) await(ctx context.Context, e *env, inv *invocation, d delivery, cold bool) outcome {
	switch d.how {
	case withdrawn:
		return outcome{err: d.err}
	case lost: // it died between init (or the idle list) and the hand-off
		p.stats.crashes.Add(1)
		return outcome{resp: p.complete(e, inv, p.exitResult(e, inv), cold)}
	}
	p.stats.invocations.Add(1)
	res := d.res
	if d.how == handedOver {
		var waited bool
		if res, waited = p.awaitResult(ctx.Done(), e, inv); !waited {
			p.inflight.Add(1)
			go func() {
				defer p.inflight.Done()
				res, _ := p.awaitResult(nil, e, inv)
				p.complete(e, inv, res, cold)
			}()
			return outcome{err: ctx.Err()}
		}
	}
	return outcome{resp: p.complete(e, inv, res, cold)}
}

// awaitResult waits for the runtime's answer, the deadline or the
// environment's death. waited is false when stop closed first.
func (p *Pool) awaitResult(stop <-chan struct{}, e *env, inv *invocation) (res result, waited bool) {
	t := e.invTimer
	t.Reset(time.Until(inv.deadline))
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
			r := platformResult(inv.id, ErrorTypeTimeout, timedOutMessage(e.fn.cfg.Timeout))
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
