package executor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildState runs a function's build command at most once successfully.
type buildState struct {
	mu   sync.Mutex
	done bool
	err  error
}

// Prepare runs the build command of every function that has one, once
// each, in its code directory, with albedo's environment. Output lines go to
// FunctionLog. A failure is a *BuildError naming the function, the command
// and its output. Functions without build commands are untouched; no
// environment starts. Cancelling ctx kills each running build with its
// whole process group; Prepare then returns ctx's error, and that build
// runs again next time.
func (p *Pool) Prepare(ctx context.Context) error {
	var errs []error
	set := p.set.Load()
	for _, name := range set.names {
		if err := p.build(ctx, set.byName[name]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// build runs fn's build command unless it already succeeded or failed; a
// build cut short by its context is retried next time.
func (p *Pool) build(ctx context.Context, fn *function) error {
	if len(fn.cfg.Build) == 0 {
		return nil
	}
	b := &fn.build
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return b.err
	}
	err := p.runBuild(ctx, fn)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	b.done, b.err = true, err
	return err
}

// runBuild runs fn's build command once; see Prepare.
func (p *Pool) runBuild(ctx context.Context, fn *function) error {
	p.log.Info("building function", "function", fn.cfg.Name, "command", strings.Join(fn.cfg.Build, " "))
	cmd := exec.CommandContext(ctx, fn.cfg.Build[0], fn.cfg.Build[1:]...)
	cmd.Dir = fn.cfg.Code
	cmd.Env = os.Environ()
	// A cancelled build (SIGINT during albedo's start-up) dies whole: the
	// command runs in its own process group and the group is killed, since
	// a build tool's children (go build's compiler and linker) would
	// otherwise run on and hold the output pipe, keeping CombinedOutput,
	// and albedo, waiting. WaitDelay bounds that wait whatever escapes the
	// group.
	cmd.SysProcAttr = runtimeProcAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		p.flog.writeLine(fn.cfg.Name, sc.Bytes())
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		if len(out) > 8<<10 {
			out = out[len(out)-8<<10:]
		}
		return &BuildError{Function: fn.cfg.Name, Command: fn.cfg.Build, Output: out, Err: err}
	}
	return nil
}
