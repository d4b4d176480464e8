package executor

import (
	"time"
)

// logSyncWait bounds how long an invocation waits for the function's
// output lines to reach the log before its END line.
const logSyncWait = 100 * time.Millisecond

// complete turns the outcome of a delivered invocation into a Response:
// it collects the function's last output lines, checks the memory peak,
// writes the platform log lines and returns the environment to the idle
// list or lets it go.
func (p *Pool) complete(e *env, inv *invocation, res result, cold bool) Response {
	if res.status != "" {
		waitDead(e, ShutdownGrace)
	}
	e.syncLogs(inv.wantTail, logSyncWait)
	kb := e.sampleMemory(true)
	if res.status == "" && stopReason(e.reason.Load()) == reasonOutOfMemory {
		waitDead(e, ShutdownGrace)
		p.stats.outOfMemory.Add(1)
		res = platformResult(inv.id, ErrorTypeExit, "Runtime exited with error: signal: killed")
	}
	healthy := res.status == "" && !e.isDead()
	if res.functionError && res.errorType == "" {
		p.stats.functionErrors.Add(1)
	}
	r := newReport(e, inv, &res, kb)
	if cold {
		e.mu.Lock()
		r.InitDuration = e.initDuration
		e.mu.Unlock()
	}
	tail := p.logEnd(e, inv, res, r)
	if healthy {
		p.release(e)
	} else if !e.isDead() {
		e.kill(reasonShutdown)
	}
	return response(inv, res, r.Duration, tail)
}

// logExtensions writes Lambda's EXTENSION lines after a cold start's init,
// before the invocation's START.
func (p *Pool) logExtensions(e *env, inv *invocation) {
	lines := e.extensionLines()
	if len(lines) == 0 {
		return
	}
	for _, l := range lines {
		p.flog.writeLine(e.fn.cfg.Name, l)
	}
	if inv.wantTail {
		e.mu.Lock()
		for _, l := range lines {
			inv.tail = append(append(inv.tail, l...), '\n')
		}
		e.mu.Unlock()
	}
}

// finishUnstarted ends an invocation whose environment failed to start or
// initialise; the environment is gone or going.
func (p *Pool) finishUnstarted(e *env, inv *invocation, res result) Response {
	waitDead(e, ShutdownGrace)
	e.mu.Lock()
	if e.logInv == inv {
		e.logInv = nil
	}
	e.mu.Unlock()
	inv.start = e.start
	if inv.start.IsZero() {
		inv.start = res.end
	}
	r := newReport(e, inv, &res, e.hwmKB.Load())
	line := appendStart(nil, inv.id)
	p.flog.writeLine(e.fn.cfg.Name, line)
	if inv.wantTail {
		inv.tail = append(append(inv.tail, line...), '\n')
	}
	tail := p.logEnd(e, inv, res, r)
	return response(inv, res, r.Duration, tail)
}

// logEnd writes the platform lines that close an invocation (error lines,
// END, REPORT, the timeout line) and returns the invocation's tail.
func (p *Pool) logEnd(e *env, inv *invocation, res result, r report) []byte {
	lines := make([][]byte, 0, 5)
	if res.status == "error" && res.logLine != "" {
		lines = append(lines, []byte(res.logLine), []byte(res.errorType))
	}
	lines = append(lines, appendEnd(nil, inv.id), appendReport(nil, r))
	if res.status == "timeout" {
		lines = append(lines, appendTimeoutLine(nil, time.Now(), inv.id, e.fn.cfg.Timeout))
	}
	p.flog.writeLines(e.fn.cfg.Name, lines...)
	e.fn.m.report(&r, res.functionError)
	if !inv.wantTail {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range lines {
		inv.tail = append(append(inv.tail, l...), '\n')
	}
	if e.logInv == inv {
		e.logInv = nil
	}
	return inv.tail
}

func response(inv *invocation, res result, d time.Duration, tail []byte) Response {
	resp := Response{
		RequestID: inv.id,
		Payload:   res.payload,
		ErrorType: res.errorType,
		Duration:  d,
		Log:       tail,
	}
	if res.functionError {
		resp.FunctionError = FunctionErrorUnhandled
	}
	return resp
}

func waitDead(e *env, d time.Duration) {
	if e.isDead() {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-e.dead:
	case <-t.C:
	}
}

// newReport is the REPORT line of inv ending with res (whose end time it
// sets to now when unset), with peak memory kb. An error type is reported
// with Status "error" only.
func newReport(e *env, inv *invocation, res *result, kb int64) report {
	if res.end.IsZero() {
		res.end = time.Now()
	}
	mb := kbToMB(kb)
	if e.p.iso.limitsMemory() {
		// The kernel's count can pass the limit by the few pages it
		// charges without failing (page tables, slab): 129 MB at 128.
		// Lambda's Max Memory Used never exceeds Memory Size.
		mb = min(mb, e.fn.cfg.MemorySize)
	}
	r := report{
		RequestID:   inv.id,
		Duration:    res.end.Sub(inv.start),
		MemorySize:  e.fn.cfg.MemorySize,
		MaxMemoryMB: mb,
		Status:      res.status,
	}
	if res.status == "error" {
		r.ErrorType = res.errorType
	}
	return r
}
