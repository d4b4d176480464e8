package executor

import (
	"slices"
	"time"
)

// acquire returns an idle environment of fn (most recently used first), or
// reserves room for a new one and returns it unstarted (cold = true). It
// throttles when fn is at its reserved concurrency, the Pool at
// MaxConcurrency, or the memory budget is exhausted by busy environments.
func (p *Pool) acquire(fn *function) (e *env, cold bool, err error) {
	var evicted []*env
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, false, ErrClosed
	}
	if n := len(fn.idle); n > 0 {
		e = fn.idle[n-1]
		fn.idle[n-1] = nil
		fn.idle = fn.idle[:n-1]
		p.idleLRU.Remove(e)
		e.idle = false
		p.mu.Unlock()
		return e, false, nil
	}
	size := fn.cfg.MemorySize
	switch {
	case fn.cfg.Reserved >= 0 && fn.live >= fn.cfg.Reserved:
		err = &ThrottleError{Function: fn.cfg.Name, Reason: ReasonReserved}
	default:
		// Evict least recently used idle environments (of any function)
		// until the new one fits MaxConcurrency and the memory budget:
		// Lambda's concurrency counts invocations in flight, so an idle
		// environment never throttles another function.
		for p.live >= p.opts.MaxConcurrency ||
			(p.opts.MemoryBudget > 0 && p.memUsed+size > p.opts.MemoryBudget) {
			old, _, ok := p.idleLRU.RemoveOldest()
			if !ok {
				break
			}
			p.unidleLocked(old)
			// Released now; the process dies shortly.
			p.memUsed -= old.fn.cfg.MemorySize
			p.live--
			old.fn.live--
			old.memReleased = true
			evicted = append(evicted, old)
		}
		if p.live >= p.opts.MaxConcurrency ||
			(p.opts.MemoryBudget > 0 && p.memUsed+size > p.opts.MemoryBudget) {
			err = &ThrottleError{Function: fn.cfg.Name, Reason: ReasonConcurrent}
		}
	}
	if err != nil {
		p.mu.Unlock()
		p.stats.throttles.Add(1)
		fn.m.throttle()
		for _, old := range evicted {
			go old.stop(reasonEvicted)
		}
		return nil, false, err
	}
	e = newEnv(p, fn)
	fn.live++
	p.live++
	p.memUsed += size
	p.all[e] = struct{}{}
	p.envs.Add(1)
	p.mu.Unlock()
	for _, old := range evicted {
		go old.stop(reasonEvicted)
	}
	return e, true, nil
}

// unidleLocked removes e from its function's idle list. p.mu must be held.
func (p *Pool) unidleLocked(e *env) {
	if !e.idle {
		return
	}
	e.idle = false
	idle := e.fn.idle
	if i := slices.Index(idle, e); i >= 0 {
		e.fn.idle = slices.Delete(idle, i, i+1)
	}
}

// release returns a healthy environment to its function's idle list, or
// stops it when the Pool is closed.
func (p *Pool) release(e *env) {
	p.mu.Lock()
	if p.closed || e.isDead() || e.fn.retired {
		p.mu.Unlock()
		if !e.isDead() {
			r := reasonShutdown
			if e.fn.retired {
				r = reasonReplaced
			}
			go e.stop(r)
		}
		return
	}
	e.idle = true
	e.lastUsed = time.Now()
	e.fn.idle = append(e.fn.idle, e)
	p.idleLRU.Add(e, struct{}{})
	p.mu.Unlock()
}

// forget removes a dead environment from every structure of the Pool.
func (p *Pool) forget(e *env) {
	p.mu.Lock()
	if _, ok := p.all[e]; ok {
		delete(p.all, e)
		p.idleLRU.Remove(e)
		p.unidleLocked(e)
		if !e.memReleased {
			p.memUsed -= e.fn.cfg.MemorySize
			e.fn.live--
			p.live--
		}
	}
	p.mu.Unlock()
}

// reapLoop stops environments idle for longer than IdleTimeout.
func (p *Pool) reapLoop() {
	defer p.bg.Done()
	tick := min(max(p.opts.IdleTimeout/4, 10*time.Millisecond), 30*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	var expired []*env
	for {
		select {
		case <-p.done:
			return
		case now := <-t.C:
			expired = expired[:0]
			p.mu.Lock()
			for _, fn := range p.set.Load().byName {
				// Least recently used first: stop at the first fresh one.
				n := 0
				for _, e := range fn.idle {
					if now.Sub(e.lastUsed) < p.opts.IdleTimeout {
						break
					}
					e.idle = false
					p.idleLRU.Remove(e)
					expired = append(expired, e)
					n++
				}
				if n > 0 {
					fn.idle = slices.Delete(fn.idle, 0, n)
				}
			}
			p.mu.Unlock()
			for _, e := range expired {
				go e.stop(reasonIdle)
			}
		}
	}
}

// sampleLoop reads the peak RSS of every starting or busy environment and
// kills those above their function's memory size.
func (p *Pool) sampleLoop() {
	defer p.bg.Done()
	t := time.NewTicker(sampleInterval)
	defer t.Stop()
	var envs []*env
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			envs = envs[:0]
			p.mu.Lock()
			for e := range p.all {
				if !e.idle { // an idle runtime is blocked in /next: it cannot grow
					envs = append(envs, e)
				}
			}
			p.mu.Unlock()
			for _, e := range envs {
				e.sampleMemory(false)
			}
			clear(envs)
		}
	}
}
