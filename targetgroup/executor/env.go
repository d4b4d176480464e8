package executor

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// stopReason says why an environment was (or is being) stopped; the first
// one recorded wins.
type stopReason int32

const (
	reasonNone stopReason = iota
	reasonTimeout
	reasonOutOfMemory
	reasonInitTimeout
	reasonInitFailed
	reasonIdle
	reasonEvicted
	reasonShutdown
)

func (r stopReason) String() string {
	return [...]string{"", "timeout", "out of memory", "init timeout", "init failed", "idle", "evicted", "shutdown"}[r]
}

// env is one execution environment: a runtime process, its Runtime API
// listener and its output reader. It serves one invocation at a time.
type env struct {
	p     *Pool
	fn    *function
	id    string // instance id for logs: function name and a sequence number
	log   *slog.Logger
	start time.Time

	ln   net.Listener
	api  *apiServer
	cmd  *exec.Cmd
	sb   sandbox // holds the runtime and everything it starts
	pid  int     // valid once launched is true
	proc *statusFile
	out  *os.File // read end of the stdout+stderr pipe
	outW *os.File // write end, kept for the log sync marker

	ready      chan struct{} // closed at the runtime's first /next
	initFailed chan struct{} // closed when the runtime posts /init/error
	stopping   chan struct{} // closed when a graceful shutdown begins
	dead       chan struct{} // closed once the process is reaped and output drained
	readerDone chan struct{}

	launched   atomic.Bool
	reason     atomic.Int32 // stopReason
	hwmKB      atomic.Int64 // peak RSS of the runtime process
	syncAcked  atomic.Uint64
	syncSent   uint64 // written by the single invoking goroutine
	syncCh     chan struct{}
	stopOnce   sync.Once
	stoppingMu sync.Once

	mu           sync.Mutex
	current      *invocation // reserved for or delivered to the runtime
	lastID       string      // the last answered request id
	parked       *apiConn    // connection whose /next waits for an invocation
	initialized  bool
	initDuration time.Duration
	initErr      []byte // body of /init/error
	initErrType  string
	extension    bool // an extension registered: SIGTERM before SIGKILL
	extShutdown  bool // an extension subscribed to SHUTDOWN
	exitDesc     string
	logInv       *invocation // invocation the output lines belong to

	// guarded by Pool.mu
	idle        bool
	lastUsed    time.Time
	memReleased bool // evicted: its memory and concurrency were given back already
}

func newEnv(p *Pool, fn *function) *env {
	n := p.nextID.Add(1)
	id := fn.cfg.Name + "-" + strconv.FormatUint(n, 10)
	return &env{
		p:          p,
		fn:         fn,
		id:         id,
		log:        p.log.With("function", fn.cfg.Name, "instance", id),
		ready:      make(chan struct{}),
		initFailed: make(chan struct{}),
		stopping:   make(chan struct{}),
		dead:       make(chan struct{}),
		readerDone: make(chan struct{}),
		syncCh:     make(chan struct{}, 1),
	}
}

// launch opens the Runtime API listener, then starts the runtime process
// with AWS_LAMBDA_RUNTIME_API pointing at it. On error the environment is
// already forgotten by the Pool.
func (e *env) launch() error {
	err := e.launchProcess()
	if err != nil {
		if e.ln != nil {
			e.ln.Close()
		}
		if e.out != nil {
			e.out.Close()
			e.outW.Close()
		}
		if e.sb != nil {
			e.sb.release()
		}
		close(e.dead)
		e.p.forget(e)
		e.p.envs.Done()
	}
	return err
}

func (e *env) launchProcess() error {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e.ln = ln
	e.api = newAPIServer(e, ln)
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	e.out, e.outW = r, w
	fn := e.fn
	cmd := exec.Command(fn.argv[0], fn.argv[1:]...)
	cmd.Dir = fn.dir
	cmd.Env = environ(fn.env, ln.Addr().String(), logStreamName(time.Now()))
	cmd.Stdout = w
	cmd.Stderr = w
	// Own process group; on Linux also SIGKILL when albedo dies (see
	// platform_*.go). The sandbox holds the whole tree (sandbox.go).
	cmd.SysProcAttr = runtimeProcAttr()
	if e.sb, err = e.p.iso.newSandbox(e.id, fn); err != nil {
		return err
	}
	e.start = time.Now()
	if err := e.sb.start(cmd); err != nil {
		return err
	}
	e.cmd = cmd
	e.pid = cmd.Process.Pid
	e.proc = openStatus(e.pid)
	e.launched.Store(true)
	if stopReason(e.reason.Load()) != reasonNone {
		// stopped (Close) while starting: stop cannot have signalled it
		e.sb.kill()
	}
	go e.api.serve()
	go e.readOutput()
	go e.supervise()
	return nil
}

// supervise waits for the process to exit, then tears the environment down.
func (e *env) supervise() {
	defer e.p.envs.Done()
	e.cmd.Wait()
	e.endSandbox()
	e.proc.close()
	e.mu.Lock()
	e.exitDesc = e.cmd.ProcessState.String()
	e.mu.Unlock()
	e.outW.Close()
	select {
	case <-e.readerDone:
	case <-time.After(time.Second):
		// A process outside the group still holds the pipe.
		e.out.Close()
		<-e.readerDone
	}
	e.out.Close() // drained: without this the descriptor waits for a GC
	close(e.dead)
	e.api.close()
	e.p.forget(e)
	if reason := stopReason(e.reason.Load()); reason != reasonNone {
		e.log.Debug("environment stopped", "reason", reason.String())
	} else {
		e.log.Debug("environment exited", "status", e.exitDesc)
	}
}

// endSandbox kills what the runtime left in its sandbox (children,
// setsid'd daemons), keeps the sandbox's memory peak and notes an out of
// memory kill, then removes the sandbox.
func (e *env) endSandbox() {
	e.sb.kill()
	oom := e.sb.outOfMemory()
	if err := e.sb.release(); err != nil {
		e.log.Warn("cannot remove the environment's sandbox", "err", err)
	}
	if kb := e.sb.peakKB(); kb > 0 {
		e.hwmKB.Store(kb)
	}
	if oom {
		e.setReason(reasonOutOfMemory)
		e.log.Info("environment out of memory", "max_memory_mb", kbToMB(e.hwmKB.Load()), "memory_size_mb", e.fn.cfg.MemorySize)
	}
}

// processID is the runtime's pid, 0 before it started.
func (e *env) processID() int {
	if !e.launched.Load() {
		return 0
	}
	return e.pid
}

func (e *env) isDead() bool {
	select {
	case <-e.dead:
		return true
	default:
		return false
	}
}

func (e *env) setReason(r stopReason) {
	e.reason.CompareAndSwap(int32(reasonNone), int32(r))
}

// kill SIGKILLs every process of the sandbox.
func (e *env) kill(r stopReason) {
	e.setReason(r)
	if pid := e.processID(); pid > 0 && !e.isDead() {
		e.sb.kill()
	}
}

// stop ends the environment the way Lambda's shutdown phase does: SIGTERM
// and up to ShutdownGrace when an extension registered, then SIGKILL. It
// returns once the process is reaped.
func (e *env) stop(r stopReason) {
	e.setReason(r)
	pid := e.processID()
	if pid == 0 {
		return
	}
	e.stopOnce.Do(func() {
		e.mu.Lock()
		graceful := e.extension
		e.mu.Unlock()
		if graceful && !e.isDead() {
			e.stoppingMu.Do(func() { close(e.stopping) })
			syscall.Kill(-pid, syscall.SIGTERM)
			t := time.NewTimer(ShutdownGrace)
			select {
			case <-e.dead:
			case <-t.C:
			}
			t.Stop()
		}
		e.kill(r)
	})
	<-e.dead
}

// sampleMemory records the peak RSS and kills the environment when it is
// above the function's memory size. With ifGrown (the end of an
// invocation) it reads the peak only when the resident set is above the
// last peak read: the peak cannot have grown otherwise, except for memory
// taken and given back within the invocation, which the next periodic
// sample sees (the kernel keeps the high-water mark).
func (e *env) sampleMemory(ifGrown bool) int64 {
	pid := e.processID()
	if pid == 0 || e.isDead() {
		return e.hwmKB.Load()
	}
	if e.p.iso.limitsMemory() {
		// The kernel enforces the limit; the cgroup keeps the peak.
		if kb := e.sb.peakKB(); kb >= 0 {
			e.hwmKB.Store(kb)
			return kb
		}
		if kb := e.proc.readKB("VmHWM"); kb > 0 { // no memory.peak (Linux < 5.19)
			e.hwmKB.Store(kb)
		}
		return e.hwmKB.Load()
	}
	last := e.hwmKB.Load()
	if ifGrown && last > 0 {
		if rss := e.proc.residentKB(); rss >= 0 && rss <= last {
			return last
		}
	}
	// VmHWM is the peak resident set size since the process started: the
	// kernel keeps the high-water mark, so no sampling interval misses a
	// peak.
	kb := e.proc.readKB("VmHWM")
	if kb <= 0 {
		return last
	}
	e.hwmKB.Store(kb)
	if kbToMB(kb) > e.fn.cfg.MemorySize {
		e.log.Info("environment out of memory", "max_memory_mb", kbToMB(kb), "memory_size_mb", e.fn.cfg.MemorySize)
		e.kill(reasonOutOfMemory)
	}
	return kb
}

// readOutput turns the runtime's output into log lines.
func (e *env) readOutput() {
	defer close(e.readerDone)
	buf := make([]byte, 32<<10)
	var partial []byte
	for {
		n, err := e.out.Read(buf)
		data := buf[:n]
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				partial = append(partial, data...)
				if len(partial) >= 256<<10 { // no newline in sight: cut
					e.emit(partial)
					partial = partial[:0]
				}
				break
			}
			line := data[:i]
			if len(partial) > 0 {
				partial = append(partial, line...)
				line = partial
			}
			e.emit(line)
			partial = partial[:0]
			data = data[i+1:]
		}
		if err != nil {
			if len(partial) > 0 {
				e.emit(partial)
			}
			return
		}
	}
}

// maxTail bounds the lines kept for Response.Log; beyond it the oldest half
// goes.
const maxTail = 1 << 20

// emit writes one output line to the function log and the invocation's
// tail, or acknowledges a sync marker.
func (e *env) emit(line []byte) {
	text, isMarker := splitMarker(line)
	if isMarker {
		if len(text) > 0 {
			e.emit(text)
		}
		e.syncAcked.Add(1)
		select {
		case e.syncCh <- struct{}{}:
		default:
		}
		return
	}
	e.p.flog.writeLine(e.fn.cfg.Name, line)
	e.mu.Lock()
	inv := e.logInv
	if inv != nil && inv.wantTail {
		if len(inv.tail) > maxTail {
			// Callers want the end of the log (Lambda's tail is 4 KB).
			inv.tail = append(inv.tail[:0], inv.tail[len(inv.tail)-maxTail/2:]...)
		}
		inv.tail = append(append(inv.tail, line...), '\n')
	}
	e.mu.Unlock()
	if e.log.Enabled(context.Background(), slog.LevelDebug) {
		id := ""
		if inv != nil {
			id = inv.id
		}
		e.log.LogAttrs(context.Background(), slog.LevelDebug, "function output", slog.String("request_id", id), slog.String("line", string(line)))
	}
}

// syncLogs waits until every byte the runtime wrote so far has been emitted
// (bounded by wait). It writes a marker only when output is pending or the
// caller wants the invocation's lines.
func (e *env) syncLogs(always bool, wait time.Duration) {
	if e.isDead() {
		return // supervise drained the reader already
	}
	if !always && pipePending(e.out) == 0 {
		return
	}
	e.syncSent++
	want := e.syncSent
	if _, err := e.outW.Write(syncLine); err != nil {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for e.syncAcked.Load() < want {
		select {
		case <-e.syncCh:
		case <-e.readerDone:
			return
		case <-t.C:
			return
		}
	}
}

// pipePending is the number of unread bytes in the pipe (FIONREAD; TIOCINQ
// on Linux).
func pipePending(f *os.File) int {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	rc.Control(func(fd uintptr) {
		n, _ = unix.IoctlGetInt(int(fd), ioctlPending)
	})
	return n
}
