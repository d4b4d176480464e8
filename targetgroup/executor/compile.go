package executor

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
)

// compileEnv is what New needs to turn Functions into launch recipes.
type compileEnv struct {
	opts Options
	cwd  string
	path string // albedo's PATH (Lambda's default when unset)
	libs string // albedo's LD_LIBRARY_PATH
	log  *slog.Logger

	clients    string // installed runtime clients, once needed
	clientsErr error
	installed  bool
	warned     map[string]bool // runtimes whose interpreter warning was logged
}

// clientDir installs the embedded runtime clients on first use.
func (ce *compileEnv) clientDir() (string, error) {
	if !ce.installed {
		ce.installed = true
		if ce.opts.RuntimeDir == "" {
			ce.clientsErr = errors.New("executor: Options.RuntimeDir is required for the nodejs and python runtimes")
		} else {
			ce.clients, ce.clientsErr = installClients(ce.opts.RuntimeDir)
		}
	}
	return ce.clients, ce.clientsErr
}

// interpreter returns the interpreter of a managed runtime: the one in
// Options.Interpreters, or one probed now.
func (ce *compileEnv) interpreter(runtime string) (Interpreter, error) {
	if in, ok := ce.opts.Interpreters[runtime]; ok && in.Exec != "" {
		return in, nil
	}
	in, err := ProbeInterpreter(runtime, "")
	if err == nil && in.Warning != "" && !ce.warned[runtime] {
		if ce.warned == nil {
			ce.warned = map[string]bool{}
		}
		ce.warned[runtime] = true
		ce.log.Warn("interpreter version differs from its runtime", "runtime", runtime, "path", in.Path, "version", in.Version, "detail", in.Warning)
	}
	return in, err
}

// compile validates f and precomputes how its environments start.
func (ce *compileEnv) compile(f Function) (*function, error) {
	if f.Name == "" {
		return nil, errors.New("executor: function name is empty")
	}
	if f.MemorySize == 0 {
		f.MemorySize = DefaultMemorySize
	}
	if f.Timeout == 0 {
		f.Timeout = DefaultTimeout
	}
	if f.MemorySize < 0 || f.Timeout < 0 || f.Reserved < -1 {
		return nil, fmt.Errorf("executor: function %s: negative memory size, timeout or reserved concurrency", f.Name)
	}
	switch f.CPUModel {
	case "":
		f.CPUModel = CPUModelHost
	case CPUModelHost, CPUModelAWS:
	default:
		return nil, fmt.Errorf("executor: function %s: cpu model must be %s or %s, got %q", f.Name, CPUModelHost, CPUModelAWS, f.CPUModel)
	}
	spec, ok := parseRuntime(f.Runtime)
	if !ok {
		return nil, fmt.Errorf("executor: function %s: unsupported runtime %q", f.Name, f.Runtime)
	}
	f.Layers = slices.Clone(f.Layers)
	for _, l := range f.Layers {
		if !filepath.IsAbs(l) {
			return nil, fmt.Errorf("executor: function %s: layers must be absolute directories, got %q", f.Name, l)
		}
	}
	fn := &function{cfg: f, spec: spec}
	var vars map[string]string
	var clients string
	switch spec.kind {
	case kindProvided:
		if f.Handler == "" {
			f.Handler = "bootstrap"
			fn.cfg.Handler = f.Handler
		}
		if !filepath.IsAbs(f.Code) {
			return nil, fmt.Errorf("executor: function %s: code must be an absolute directory, got %q", f.Name, f.Code)
		}
		fn.dir = f.Code
		fn.argv = []string{filepath.Join(f.Code, f.Handler)}
	case kindBuiltin:
		if len(ce.opts.BuiltinCommand) == 0 {
			return nil, fmt.Errorf("executor: function %s: runtime builtin needs Options.BuiltinCommand", f.Name)
		}
		fn.dir = f.Code
		if fn.dir == "" {
			fn.dir = ce.cwd
		}
		fn.argv = append(slices.Clone(ce.opts.BuiltinCommand), f.Handler)
	case kindNode, kindPython:
		if !filepath.IsAbs(f.Code) {
			return nil, fmt.Errorf("executor: function %s: code must be an absolute directory, got %q", f.Name, f.Code)
		}
		if f.Handler == "" {
			return nil, fmt.Errorf("executor: function %s: runtime %s needs a handler", f.Name, f.Runtime)
		}
		in, err := ce.interpreter(f.Runtime)
		if err != nil {
			return nil, fmt.Errorf("executor: function %s: %w", f.Name, err)
		}
		if clients, err = ce.clientDir(); err != nil {
			return nil, err
		}
		fn.dir = f.Code
		if spec.kind == kindNode {
			fn.argv, vars = nodeLaunch(&fn.cfg, spec, in.Exec, clients)
		} else {
			fn.argv, vars = pythonLaunch(&fn.cfg, spec, in.Exec, clients)
		}
	}
	if vars == nil {
		vars = map[string]string{}
	}
	vars["PATH"] = layerPath(ce.path, f.Layers)
	vars["LD_LIBRARY_PATH"] = libraryPath(ce.libs, fn.dir, f.Layers)
	fn.env = baseEnv(&fn.cfg, f.Handler, fn.dir, vars)
	if spec.managed() {
		fn.argv = execWrapper(fn.argv, fn.env, clients)
	}
	return fn, nil
}
