package executor

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// External extensions are the files of the layers' extensions
// directories (layerExtensions). As on Lambda, an environment starts them
// before its runtime, each in its own process group with the function's
// environment and the environment's output pipe (their lines are the
// function's log lines), and starts the runtime once every one of them
// registered through the Extensions API; init ends when the runtime and
// every extension called next. An extension that exits before the
// environment is stopped resets it (Extension.Crash). At shutdown the
// runtime gets SIGTERM and up to runtimeShutdownShare, then extensions
// get their SHUTDOWN event and the rest of ShutdownGrace before SIGKILL.
// INVOKE events are not sent: an extension subscribed to them waits in
// event/next until SHUTDOWN.

// runtimeShutdownShare is the part of ShutdownGrace the runtime gets after
// SIGTERM when external extensions are registered (Lambda: 300 ms; 500 ms
// when an internal extension registered too).
const (
	runtimeShutdownShare         = 300 * time.Millisecond
	runtimeShutdownShareInternal = 500 * time.Millisecond
)

// extension is one external extension process of an environment.
type extension struct {
	name   string // its file name: the name it registers with
	path   string
	cmd    *exec.Cmd
	pid    int
	exited chan struct{} // closed once reaped; exitDesc is set then

	exitDesc string

	// guarded by env.mu
	id           string // Lambda-Extension-Identifier, once registered
	events       []string
	ready        bool // called event/next at least once
	shutdownSent bool
}

// initFailure is an environment that could not start or finish init for a
// reason its invocation reports as a function error.
type initFailure struct {
	typ  string // errorType
	msg  string // errorMessage after "RequestId: <id> Error: "
	body []byte // the error JSON an extension posted to init/error, served as is
}

func (f *initFailure) Error() string { return f.typ + ": " + f.msg }

// startExtensions starts the external extensions and waits until every
// one registered (or init failed: an extension that does not start, exits,
// posts init/error, or takes longer than the init timeout). The Runtime
// API already serves. On error the caller stops what was started.
func (e *env) startExtensions(files []extensionFile) error {
	e.extExit = make(chan *extension, len(files))
	e.registered = make(chan struct{})
	// Every extension is known before any starts: one may register before
	// the next is started, and a name not known is an internal extension.
	exts := make([]*extension, len(files))
	for i, f := range files {
		exts[i] = &extension{name: f.name, path: f.path, exited: make(chan struct{})}
	}
	e.mu.Lock()
	e.exts = exts
	e.mu.Unlock()
	for i, x := range exts {
		cmd, err := e.startProcess([]string{x.path})
		if err != nil {
			// Not started, so never reaped: the ones after it neither.
			for _, y := range exts[i:] {
				close(y.exited)
			}
			return &initFailure{typ: ErrorTypeExtensionLaunch, msg: "extension " + x.name + " could not start: " + launchReason(err)}
		}
		e.mu.Lock()
		x.cmd, x.pid = cmd, cmd.Process.Pid
		e.mu.Unlock()
		go e.reapExtension(x)
	}
	t := time.NewTimer(time.Until(e.start.Add(e.p.opts.InitTimeout)))
	defer t.Stop()
	select {
	case <-e.registered:
		return nil
	case x := <-e.extExit:
		return &initFailure{typ: ErrorTypeExtensionCrash, msg: "extension " + x.name + " exited before it registered: " + x.exitDesc}
	case <-e.initFailed:
		e.mu.Lock()
		defer e.mu.Unlock()
		return &initFailure{typ: e.initErrType, body: e.initErr}
	case <-e.p.done:
		return ErrClosed
	case <-t.C:
		var missing []string
		e.mu.Lock()
		for _, x := range e.exts {
			if x.id == "" {
				missing = append(missing, x.name)
			}
		}
		e.mu.Unlock()
		return &initFailure{typ: ErrorTypeTimeout, msg: "Init phase timed out after " + seconds(e.p.opts.InitTimeout) +
			" (extensions not registered: " + strings.Join(missing, ", ") + ")"}
	}
}

// launchReason is the part of an exec error a user acts on.
func launchReason(err error) string {
	var pe interface{ Unwrap() error }
	if errors.As(err, &pe) {
		if inner := pe.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}

// reapExtension waits for an extension process; one that exits while the
// environment is not being stopped resets the environment.
func (e *env) reapExtension(x *extension) {
	x.cmd.Wait()
	syscall.Kill(-x.pid, syscall.SIGKILL) // what it left in its group
	x.exitDesc = x.cmd.ProcessState.String()
	close(x.exited)
	e.extExit <- x
	if e.graceful.Load() || stopReason(e.reason.Load()) != reasonNone {
		return // being stopped: extensions end after SHUTDOWN, or are killed
	}
	e.mu.Lock()
	if e.crashed == nil {
		e.crashed = x
	}
	e.mu.Unlock()
	e.log.Warn("extension exited, the environment is reset", "extension", x.name, "status", x.exitDesc)
	e.kill(reasonExtensionCrash)
}

// signalExtensions sends sig to every extension's process group.
func (e *env) signalExtensions(sig syscall.Signal) {
	e.mu.Lock()
	exts := e.exts
	e.mu.Unlock()
	for _, x := range exts {
		e.mu.Lock()
		pid := x.pid
		e.mu.Unlock()
		select {
		case <-x.exited:
		default:
			if pid > 0 {
				syscall.Kill(-pid, sig)
			}
		}
	}
}

// finishExtensions runs once the runtime is gone: in a graceful stop the
// extensions have their SHUTDOWN and until stop's deadline (stop kills
// them then); otherwise they are killed now. It returns once all are
// reaped.
func (e *env) finishExtensions() {
	e.mu.Lock()
	exts := e.exts
	e.mu.Unlock()
	if len(exts) == 0 {
		return
	}
	if !e.graceful.Load() {
		e.signalExtensions(syscall.SIGKILL)
	}
	for _, x := range exts {
		<-x.exited
	}
}

// extensionLines are Lambda's EXTENSION log lines, one per external
// extension, written when init completes:
// "EXTENSION\tName: x\tState: Ready\tEvents: [INVOKE, SHUTDOWN]".
func (e *env) extensionLines() [][]byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	lines := make([][]byte, 0, len(e.exts))
	for _, x := range e.exts {
		lines = append(lines, []byte("EXTENSION\tName: "+x.name+"\tState: Ready\tEvents: ["+strings.Join(x.events, ", ")+"]"))
	}
	return lines
}
