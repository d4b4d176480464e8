package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Interpreter is the program that runs a managed runtime's functions, as
// found and asked for its version by ProbeInterpreter.
type Interpreter struct {
	Runtime string // the runtime it serves, e.g. "python3.12"
	Command string // as configured, or the name found on PATH ("python3")
	Path    string // absolute path of Command
	// Exec is the binary the interpreter reports as itself
	// (process.execPath, sys.executable): what environments start, so that
	// a version manager's shim (pyenv, asdf) costs nothing per cold start.
	Exec    string
	Version string // as reported: "20.11.1", "3.12.4"
	// Warning is set when the version is newer than the runtime's: the
	// functions run, on another language version than on Lambda.
	Warning string
}

// ErrInterpreter is matched (errors.Is) by every *InterpreterError.
var ErrInterpreter = errors.New("executor: interpreter unusable")

// InterpreterError reports a managed runtime without a usable interpreter:
// none found, one that does not answer, or one older than the runtime.
type InterpreterError struct {
	Runtime string
	Path    string // the interpreter found ("" when none)
	Version string // the version it reported ("" when it could not say)
	Msg     string
}

func (e *InterpreterError) Error() string {
	return "executor: runtime " + e.Runtime + ": " + e.Msg
}

// Is makes errors.Is(err, ErrInterpreter) true.
func (e *InterpreterError) Is(target error) bool { return target == ErrInterpreter }

// probeTimeout bounds one interpreter's version query (a version
// manager's shim can take a while on its first run).
const probeTimeout = 15 * time.Second

var probes struct {
	mu   sync.Mutex
	done map[string]*probeResult
}

type probeResult struct {
	once sync.Once
	in   Interpreter
	err  error
}

// ProbeInterpreter finds the interpreter of a managed runtime (nodejsN.x,
// python3.N) and asks it for its version and its own binary. command is
// the interpreter configured for the runtime ("" = look on PATH: node; or
// python3.N, then python3); one without a "/" is looked up on PATH. The
// query runs in albedo's working directory with albedo's environment, as
// the same command would in the user's shell.
//
// An interpreter older than the runtime (Node.js major; Python major.minor)
// is an *InterpreterError; a newer one is returned with Warning set. Results
// are cached per runtime, command and PATH for the life of the process.
func ProbeInterpreter(runtime, command string) (Interpreter, error) {
	key := runtime + "\x00" + command + "\x00" + os.Getenv("PATH")
	probes.mu.Lock()
	if probes.done == nil {
		probes.done = map[string]*probeResult{}
	}
	r, ok := probes.done[key]
	if !ok {
		r = &probeResult{}
		probes.done[key] = r
	}
	probes.mu.Unlock()
	r.once.Do(func() { r.in, r.err = probe(runtime, command) })
	return r.in, r.err
}

func probe(runtime, command string) (Interpreter, error) {
	spec, ok := parseRuntime(runtime)
	if !ok || !spec.managed() {
		return Interpreter{}, &InterpreterError{Runtime: runtime, Msg: "not a runtime that needs an interpreter"}
	}
	in := Interpreter{Runtime: runtime}
	lang, hint := "Node.js", fmt.Sprintf("install Node.js %d or name one in albedo.yaml (runtimes: {%s: /path/to/node})", spec.major, runtime)
	var candidates []string
	if spec.kind == kindPython {
		lang = "Python"
		hint = fmt.Sprintf("install Python 3.%d or name one in albedo.yaml (runtimes: {%s: /path/to/python3})", spec.minor, runtime)
	}
	switch {
	case command != "":
		candidates = []string{command}
	case spec.kind == kindNode:
		candidates = []string{"node"}
	default:
		candidates = []string{runtime, "python3"}
	}
	var firstErr error
	for _, c := range candidates {
		p, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		in.Command, in.Path = c, p
		version, self, err := ask(spec, p)
		if err != nil {
			// A shim for a version that is not installed: try the next name.
			if firstErr == nil {
				firstErr = &InterpreterError{Runtime: runtime, Path: p,
					Msg: fmt.Sprintf("%s did not report its %s version (%v); %s", p, lang, err, hint)}
			}
			continue
		}
		return check(in, spec, version, self, lang, hint)
	}
	if firstErr != nil {
		return in, firstErr
	}
	msg := fmt.Sprintf("no %s interpreter: %s is not on PATH; %s", lang, candidates[0], hint)
	if len(candidates) > 1 {
		msg = fmt.Sprintf("no %s interpreter: neither %s is on PATH; %s", lang, strings.Join(candidates, " nor "), hint)
	}
	if command != "" {
		msg = fmt.Sprintf("interpreter %q not found or not executable; %s", command, hint)
	}
	return Interpreter{Runtime: runtime}, &InterpreterError{Runtime: runtime, Msg: msg}
}

// ask runs the interpreter at path and returns the version and the binary
// it reports.
func ask(spec runtimeSpec, path string) (version, self string, err error) {
	var args []string
	if spec.kind == kindNode {
		args = []string{"-e", `process.stdout.write(process.versions.node + "\n" + process.execPath)`}
	} else {
		args = []string{"-I", "-S", "-c", `import sys; sys.stdout.write("%d.%d.%d\n%s" % (sys.version_info[0], sys.version_info[1], sys.version_info[2], sys.executable))`}
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	version, self, _ = strings.Cut(string(out), "\n")
	if _, _, ok := parseVersion(version); err == nil && !ok {
		err = fmt.Errorf("unexpected output %q", out)
	}
	if err != nil {
		detail := strings.Join(strings.Fields(stderr.String()), " ")
		if len(detail) > 300 {
			detail = detail[:300] + "…"
		}
		if detail != "" {
			err = fmt.Errorf("%w: %s", err, detail)
		}
		return "", "", err
	}
	return version, self, nil
}

// check compares the version an interpreter reported with its runtime's.
func check(in Interpreter, spec runtimeSpec, version, self, lang, hint string) (Interpreter, error) {
	major, minor, _ := parseVersion(version)
	in.Version = version
	in.Exec = in.Path
	if filepath.IsAbs(self) {
		in.Exec = self
	}
	if spec.kind == kindPython && major != 3 {
		minor = -1 // Python 2 is older than any python3.N
	}
	want, have := spec.major, major
	wantName, haveName := strconv.Itoa(spec.major), strconv.Itoa(major)
	if spec.kind == kindPython {
		want, have = spec.minor, minor
		wantName, haveName = "3."+strconv.Itoa(spec.minor), strconv.Itoa(major)+"."+strconv.Itoa(max(minor, 0))
	}
	switch {
	case have < want:
		return in, &InterpreterError{Runtime: in.Runtime, Path: in.Path, Version: version,
			Msg: fmt.Sprintf("%s is %s %s, older than %s (%s %s); %s", in.Path, lang, version, in.Runtime, lang, wantName, hint)}
	case have > want:
		in.Warning = fmt.Sprintf("%s is %s %s, newer than %s: functions run on %s %s, not %s as on Lambda", in.Path, lang, version, in.Runtime, lang, haveName, wantName)
	}
	return in, nil
}

// parseVersion reads "20.11.1" or "3.12.4" (a leading "v" allowed).
func parseVersion(v string) (major, minor int, ok bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	return major, minor, err1 == nil && err2 == nil
}
