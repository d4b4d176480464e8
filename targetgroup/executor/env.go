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
	reasonExtensionCrash
	reasonReplaced // its function changed or was removed (update.go)
)

func (r stopReason) String() string {
	return [...]string{"", "timeout", "out of memory", "init timeout", "init failed", "idle", "evicted", "shutdown", "extension exited", "function replaced"}[r]
}

// env is one execution environment: a runtime process, its external
// extensions (extensions.go), its Runtime API listener and its output
// reader. It serves one invocation at a time.
type env struct {
	p     *Pool
	fn    *function
	id    string // instance id for logs: function name and a sequence number
	log   *slog.Logger
	start time.Time

	ln      net.Listener
	api     *apiServer
	environ []string // KEY=VALUE of every process of the environment
	cmd     *exec.Cmd
	sb      sandbox // holds the runtime, its extensions and everything they start
	pid     int     // valid once launched is true
	proc    *statusFile
	out     *os.File // read end of the stdout+stderr pipe
	outW    *os.File // write end, kept for the log sync marker

	ready      chan struct{} // closed when init ends: the runtime's first /next, every extension's first event/next
	initFailed chan struct{} // closed when the runtime or an extension posts init/error
	stopping   chan struct{} // closed when extensions get SHUTDOWN (graceful stop)
	dead       chan struct{} // closed once every process is reaped and output drained
	readerDone chan struct{}
	exited     chan struct{} // closed once the runtime process is reaped
	serving    bool          // the API server and output reader run
	registered chan struct{} // closed once every external extension registered
	extExit    chan *extension

	stopDeadline atomic.Int64 // unix ms: the SHUTDOWN event's deadlineMs
	graceful     atomic.Bool  // a graceful stop began: extensions wait for SHUTDOWN

	launched  atomic.Bool
	reason    atomic.Int32 // stopReason
	hwmKB     atomic.Int64 // peak RSS of the runtime process
	syncAcked atomic.Uint64
	syncSent  uint64 // written by the single invoking goroutine
	syncCh    chan struct{}
	// invTimer times the invocation in flight (deliver's wait for /next,
	// then awaitResult's deadline), used by one invocation at a time and
	// stopped after each use: a warm invocation allocates no timer.
	invTimer   *time.Timer
	stopOnce   sync.Once
	signalStop sync.Once // closes stopping, once

	mu             sync.Mutex
	current        *invocation // reserved for or delivered to the runtime
	lastID         string      // the last answered request id
	parked         *apiConn    // connection whose /next waits for an invocation
	initialized    bool        // the runtime called /next
	initDone       bool        // ready is closed
	initDuration   time.Duration
	initErr        []byte // body of /init/error
	initErrType    string
	extension      bool     // an extension registered: SIGTERM before SIGKILL
	internalExt    bool     // an internal extension (the runtime's own) registered
	internalExtIDs []string // identifiers given to internal extensions
	extShutdown    bool     // an internal extension subscribed to SHUTDOWN
	exitDesc       string
	logInv         *invocation // invocation the output lines belong to

	exts           []*extension // external extensions
	extsRegistered int
	extsReady      int        // external extensions that called event/next
	crashed        *extension // the extension whose exit reset the environment

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
		exited:     make(chan struct{}),
		syncCh:     make(chan struct{}, 1),
		invTimer:   stoppedTimer(),
	}
}

// stoppedTimer is a timer to Reset before each use.
func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// launch opens the Runtime API listener, starts the external extensions
// and waits for their registration, then starts the runtime process with
// AWS_LAMBDA_RUNTIME_API pointing at the listener. On error the
// environment is stopped and already forgotten by the Pool; an
// *initFailure says what the invocation reports.
func (e *env) launch() error {
	err := e.launchProcess()
	if err != nil {
		e.setReason(reasonInitFailed)
		e.signalExtensions(syscall.SIGKILL)
		e.mu.Lock()
		exts := e.exts
		e.mu.Unlock()
		for _, x := range exts {
			<-x.exited
		}
		if e.api != nil {
			e.api.close()
		} else if e.ln != nil {
			e.ln.Close()
		}
		if e.out != nil {
			e.outW.Close()
			if e.serving {
				waitClosed(e.readerDone, time.Second, e.out)
			}
			e.out.Close()
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

// waitClosed waits for ch; after d it closes f (a pipe still held by a
// process outside the environment's groups) and waits on.
func waitClosed(ch <-chan struct{}, d time.Duration, f *os.File) {
	select {
	case <-ch:
	case <-time.After(d):
		f.Close()
		<-ch
	}
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
	e.environ = environ(fn.env, ln.Addr().String(), logStreamName(time.Now()))
	// The sandbox first: the extensions and the runtime start inside it
	// (sandbox.go), so that a reset or a stop ends all they started.
	if e.sb, err = e.p.iso.newSandbox(e.id, fn); err != nil {
		return err
	}
	e.start = time.Now()
	// The API and the output reader run from here on: extensions register
	// before the runtime starts.
	e.serving = true
	go e.api.serve()
	go e.readOutput()
	if files := layerExtensions(fn.cfg.Layers); len(files) > 0 {
		if err := e.startExtensions(files); err != nil {
			return err
		}
	}
	cmd, err := e.startProcess(fn.argv)
	if err != nil {
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
	go e.supervise()
	return nil
}

// startProcess starts one process of the environment (the runtime, or an
// external extension) with the environment's variables, working directory
// and output pipe, in a process group of its own (so that the whole tree
// can be killed) and, on Linux, SIGKILLed when albedo dies
// (platform_linux.go). Every process of an environment starts here.
func (e *env) startProcess(argv []string) (*exec.Cmd, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = e.fn.dir
	cmd.Env = e.environ
	cmd.Stdout = e.outW
	cmd.Stderr = e.outW
	// Own process group; on Linux also SIGKILL when albedo dies (see
	// platform_*.go). The sandbox holds the whole tree (sandbox.go).
	cmd.SysProcAttr = runtimeProcAttr()
	if err := e.sb.start(cmd); err != nil {
		return nil, err
	}
	return cmd, nil
}

// supervise waits for the process to exit, then tears the environment down.
func (e *env) supervise() {
	defer e.p.envs.Done()
	e.cmd.Wait()
	// Outside a graceful stop everything in the sandbox goes with the
	// runtime at once. In a graceful stop the external extensions have
	// their SHUTDOWN phase now, while the runtime is gone (Lambda's
	// order), and the sandbox ends after them.
	if !e.graceful.Load() {
		e.sb.kill()
	}
	e.proc.close()
	e.mu.Lock()
	e.exitDesc = e.cmd.ProcessState.String()
	e.mu.Unlock()
	close(e.exited)
	e.finishExtensions()
	e.endSandbox()
	e.outW.Close()
	// After a second a process outside the groups still holds the pipe.
	waitClosed(e.readerDone, time.Second, e.out)
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

// kill SIGKILLs every process of the sandbox: the runtime, the extensions
// and all they started.
func (e *env) kill(r stopReason) {
	e.setReason(r)
	if pid := e.processID(); pid > 0 && !e.isDead() {
		e.sb.kill()
	}
	e.signalExtensions(syscall.SIGKILL)
}

// stop ends the environment the way Lambda's shutdown phase does when an
// extension registered: SIGTERM to the runtime; with external extensions
// the runtime gets runtimeShutdownShare before SIGKILL, then the
// extensions get SHUTDOWN; everything left at ShutdownGrace is SIGKILLed.
// Without extensions it is SIGKILL at once. It returns once every process
// is reaped.
func (e *env) stop(r stopReason) {
	e.setReason(r)
	pid := e.processID()
	if pid == 0 {
		return
	}
	e.stopOnce.Do(func() {
		e.mu.Lock()
		graceful, internal, external := e.extension, e.internalExt, len(e.exts) > 0
		e.mu.Unlock()
		if graceful && !e.isDead() {
			deadline := time.Now().Add(ShutdownGrace)
			e.stopDeadline.Store(deadline.UnixMilli())
			e.graceful.Store(true)
			syscall.Kill(-pid, syscall.SIGTERM)
			if external {
				share := runtimeShutdownShare
				if internal {
					share = runtimeShutdownShareInternal
				}
				t := time.NewTimer(share)
				select {
				case <-e.exited:
				case <-t.C:
				}
				t.Stop()
				syscall.Kill(-pid, syscall.SIGKILL)
			}
			e.signalStop.Do(func() { close(e.stopping) })
			t := time.NewTimer(time.Until(deadline))
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
