package executor

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/httpwire"
)

// How an invocation reaches a warm runtime with the fewest goroutine
// switches and thread wake-ups (each costs the kernel and Go's scheduler
// more CPU than everything albedo itself does for the invocation):
//
//   - A runtime answers on the connection it asked /next on, then asks for
//     the next invocation there (aws-lambda-go after the 202; albedo's
//     runtime clients right behind the result). After the result that
//     connection is dormant: no goroutine reads it, for dormantWait at
//     most (then it gets its goroutine back, which parks the /next).
//   - The invoking goroutine takes the dormant connection (handOff) and
//     reads it itself (readFor): the GET /next, which is usually waiting
//     in the socket already, is answered at once with the invocation; the
//     runtime's result is read and the 202 written on the same goroutine,
//     which then returns the answer. No goroutine hands anything to
//     another, no channel, no timer: the connection's read deadline is
//     the invocation's deadline.
//   - Everything else falls back to the connection goroutines and
//     Pool.deliver's wait on inv.done: a /next parked on a new connection
//     (the first one, a runtime that opens one per request), a result or
//     /next on another connection than the one being read (that handler
//     interrupts the reader), an extension's event/next, the caller's
//     context ending, the deadline, a connection that ends. The
//     connection then gets its goroutine back (serveLocked) and nothing
//     read from it is lost: the reader only stops between requests.

// aLongTimeAgo is a read deadline that wakes a reader at once.
var aLongTimeAgo = time.Unix(1, 0)

// handOff reserves e for inv. When a /next is parked it delivers inv on
// the calling goroutine (delivered); when the runtime's connection is
// dormant it returns it, armed with inv's deadline, for the caller to
// read (readFor).
func (e *env) handOff(inv *invocation) (delivered bool, dormant *apiConn) {
	e.mu.Lock()
	e.current = inv
	if ac := e.parked; ac != nil {
		e.parked = nil
		e.takeLocked(inv)
		e.mu.Unlock()
		e.sendNext(ac, inv)
		return true, nil
	}
	ac := e.dormant
	if ac != nil {
		e.dormant = nil
		ac.wake.Stop()
		e.reading, e.readingFor, e.readBusy, e.readStop = ac, inv, false, false
		ac.c.SetReadDeadline(inv.deadline)
	}
	e.mu.Unlock()
	return false, ac
}

// readFor reads ac, the runtime's dormant connection, on the invoking
// goroutine for inv, handling each request as the connection's goroutine
// would, until the runtime's result for inv arrives on it: answered
// reports it in res, and ac is dormant again. Otherwise (see the top of
// this file) ac has its goroutine back or is closed, and deliver's wait
// on inv.done takes over.
func (e *env) readFor(ctx context.Context, ac *apiConn, inv *invocation) (res result, answered bool) {
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { e.interrupt(ac, inv) })
		defer stop()
	}
	for {
		if !e.startRequest(ac, ac.r.Wait()) {
			return result{}, false
		}
		if err := ac.r.ReadHead(); err != nil {
			ac.replyMalformed(err)
			e.dropConn(ac)
			return result{}, false
		}
		if ac.mayBlock() {
			e.mu.Lock()
			e.reading, e.readingFor = nil, nil
			ac.c.SetReadDeadline(time.Time{})
			e.mu.Unlock()
			go ac.s.run(ac, true)
			return result{}, false
		}
		r := e.route(ac)
		if r == tookResult {
			res = <-inv.done // handleResult accepted inv's result: it is there
		}
		if !ac.r.DiscardBody(256<<10) || ac.r.Req.Close {
			e.dropConn(ac)
			return res, r == tookResult
		}
		if !e.endRequest(ac, r) {
			return res, r == tookResult
		}
	}
}

// startRequest decides, after ac.r.Wait returned err, whether readFor
// reads the request that arrived: not when the wait failed or was
// interrupted (ac then gets its goroutine back, or is dropped when it
// ended). From here to endRequest no interruption touches the
// connection's deadline: a request is never cut in the middle.
func (e *env) startRequest(ac *apiConn, err error) bool {
	e.mu.Lock()
	if err == nil && !e.readStop {
		e.readBusy = true
		// An interruption between the wait and the lock set readStop;
		// without one the deadline is inv's still.
		e.mu.Unlock()
		return true
	}
	e.reading, e.readingFor = nil, nil
	if err == nil || isTimeout(err) {
		e.serveLocked(ac)
		e.mu.Unlock()
		return false
	}
	e.mu.Unlock()
	e.dropConn(ac) // it ended
	return false
}

// endRequest decides, after route handled a request read by readFor,
// whether readFor reads on: not after inv's result (ac is dormant again,
// or has its goroutine back when another invocation waits for a /next),
// nor when the connection now has a parked /next (its goroutine watches
// it) or readFor was interrupted meanwhile.
func (e *env) endRequest(ac *apiConn, r routed) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.readBusy = false
	if r == answeredRequest && !e.readStop {
		return true
	}
	e.reading, e.readingFor = nil, nil
	if r == tookResult && e.dormantLocked(ac) {
		return false
	}
	e.serveLocked(ac)
	return false
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// interrupt stops readFor reading ac for inv, between requests: the
// caller's context ended.
func (e *env) interrupt(ac *apiConn, inv *invocation) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.reading == ac && e.readingFor == inv {
		e.stopReadingLocked()
	}
}

// interruptLocked stops readFor reading another connection than ac: the
// runtime took the invocation or answered it on ac. e.mu is held.
func (e *env) interruptLocked(ac *apiConn) {
	if e.reading != nil && e.reading != ac {
		e.stopReadingLocked()
	}
}

func (e *env) stopReadingLocked() {
	e.readStop = true
	if !e.readBusy {
		e.reading.c.SetReadDeadline(aLongTimeAgo)
	}
}

// dormantLocked makes ac, a runtime connection that just delivered a
// result and is at a request boundary, the environment's dormant one,
// unless another invocation waits for a /next (a goroutine must read it
// then) or another connection holds that place; it reports whether it
// did. e.mu is held.
func (e *env) dormantLocked(ac *apiConn) bool {
	if e.current != nil || e.parked != nil || (e.dormant != nil && e.dormant != ac) {
		return false
	}
	e.dormant = ac
	if ac.wake == nil {
		ac.wake = time.AfterFunc(dormantWait, func() { e.wakeDormant(ac) })
	} else {
		ac.wake.Reset(dormantWait)
	}
	return true
}

// dormantWait is how long a dormant connection waits for an invocation to
// read it before it gets its goroutine back: a runtime that sends another
// request than GET /next after a result (a second answer, an Extensions
// API call) is answered within it, and an idle runtime's /next is parked
// as on a new connection.
const dormantWait = 20 * time.Millisecond

// wakeDormant gives ac its goroutine back if it is still dormant.
func (e *env) wakeDormant(ac *apiConn) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dormant == ac {
		e.dormant = nil
		e.serveLocked(ac)
	}
}

// goDormant is dormantLocked for a connection's own goroutine, which
// stops reading when it reports true.
func (e *env) goDormant(ac *apiConn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dormantLocked(ac)
}

// serveLocked gives ac, which no goroutine reads, a goroutine of its own.
// e.mu is held (so that no interruption moves its deadline after this).
func (e *env) serveLocked(ac *apiConn) {
	ac.c.SetReadDeadline(time.Time{})
	go ac.s.run(ac, false)
}

// dropConn closes ac, which no goroutine reads any more.
func (e *env) dropConn(ac *apiConn) {
	e.mu.Lock()
	if e.reading == ac {
		e.reading, e.readingFor = nil, nil
	}
	if e.dormant == ac {
		e.dormant = nil
	}
	e.mu.Unlock()
	ac.s.drop(ac)
}

// replyMalformed answers a request that could not be read (the
// connection closes after it).
func (ac *apiConn) replyMalformed(err error) {
	switch {
	case errors.Is(err, httpwire.ErrHeadTooLarge):
		ac.reply(http.StatusRequestHeaderFieldsTooLarge, badRequestBody, true)
	case errors.Is(err, httpwire.ErrBadRequest), errors.Is(err, httpwire.ErrUnsupportedTE):
		ac.reply(http.StatusBadRequest, badRequestBody, true)
	}
}
