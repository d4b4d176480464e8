package config

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// maxLayers is Lambda's quota of layers per function.
const maxLayers = 5

var (
	nodeRuntimeRE   = lazyRegexp(`^nodejs[1-9][0-9]{0,2}\.x$`)
	pythonRuntimeRE = lazyRegexp(`^python3\.(0|[1-9][0-9]{0,2})$`)
	handlerRE       = lazyRegexp(`^[^\s]{1,128}$`)
)

// managedRuntime is "node" or "python" for the runtimes albedo runs with
// its own runtime clients (any nodejsN.x and python3.N, so that a runtime
// Lambda adds later needs no new albedo), "" otherwise.
func managedRuntime(name string) string {
	switch {
	case nodeRuntimeRE().MatchString(name):
		return "node"
	case pythonRuntimeRE().MatchString(name):
		return "python"
	}
	return ""
}

// managed checks a nodejs or python function: its code directory and its
// handler as Lambda's API does (1-128 characters, no white space). A
// handler Lambda accepts but its runtime would fail on
// (Runtime.MalformedHandlerName, Runtime.ImportModuleError) is a warning,
// as the function deploys on AWS and fails at its first invocation.
func (v *validator) managed(f *Function, p, lang string) {
	dir, ok := v.codeDir(f, p)
	hp := p + ".handler"
	switch {
	case f.Handler == "" && lang == "node":
		v.errorf(hp, "required: path/file.export, e.g. index.handler (index.js, .mjs or .cjs exporting handler)")
		return
	case f.Handler == "":
		v.errorf(hp, "required: module.function, e.g. app.handler (app.py defining handler)")
		return
	case !handlerRE().MatchString(f.Handler):
		v.errorf(hp, "must be 1-128 characters without white space, got %q", f.Handler)
		return
	}
	if lang == "node" {
		base := path.Base(f.Handler)
		if strings.Contains(f.Handler, "..") || !strings.Contains(base, ".") || strings.HasPrefix(base, ".") {
			v.warnf(hp, "%q is not path/file.export: the function will fail with Runtime.MalformedHandlerName", f.Handler)
			return
		}
	} else if i := strings.LastIndexByte(f.Handler, '.'); i <= 0 || i == len(f.Handler)-1 {
		v.warnf(hp, "%q is not module.function: the function will fail with Runtime.MalformedHandlerName", f.Handler)
		return
	}
	if !ok || len(f.Build) > 0 {
		return // a build may create the module
	}
	if where := v.findModule(f, dir, lang); where != "" {
		v.warnf(hp, "no %s in %q or its layers: the function will fail with Runtime.ImportModuleError", where, f.Code)
	}
}

// findModule looks for the handler's module the simple ways the runtime
// finds it; "" when found, else what was looked for.
func (v *validator) findModule(f *Function, dir, lang string) string {
	var paths []string
	if lang == "node" {
		base := path.Base(f.Handler)
		mod, _, _ := strings.Cut(base, ".")
		file := filepath.Join(dir, filepath.FromSlash(path.Dir(f.Handler)), mod)
		for _, ext := range []string{"", ".js", ".mjs", ".cjs"} {
			paths = append(paths, file+ext)
		}
		paths = append(paths, filepath.Join(dir, "node_modules", mod))
		for _, l := range f.Layers {
			mods, _ := filepath.Glob(filepath.Join(v.resolve(l), "nodejs", "node*", "node_modules"))
			for _, m := range append(mods, filepath.Join(v.resolve(l), "nodejs", "node_modules")) {
				paths = append(paths, filepath.Join(m, mod), filepath.Join(m, mod+".js"))
			}
		}
	} else {
		file := filepath.FromSlash(strings.ReplaceAll(f.Handler[:strings.LastIndexByte(f.Handler, '.')], ".", "/"))
		roots := []string{dir}
		for _, l := range f.Layers {
			sp, _ := filepath.Glob(filepath.Join(v.resolve(l), "python", "lib", "python3.*", "site-packages"))
			roots = append(append(roots, filepath.Join(v.resolve(l), "python")), sp...)
		}
		for _, r := range roots {
			paths = append(paths, filepath.Join(r, file+".py"), filepath.Join(r, file), filepath.Join(r, file+".pyc"))
		}
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return ""
		}
	}
	return "module for handler " + strconv.Quote(f.Handler)
}

// layers checks a function's layer directories.
func (v *validator) layers(f *Function, p string) {
	if len(f.Layers) > maxLayers {
		v.errorf(p+".layers", "at most %d layers per function (Lambda quota), got %d", maxLayers, len(f.Layers))
	}
	for i, l := range f.Layers {
		lp := indexPath(p+".layers", i)
		if l == "" {
			v.errorf(lp, "can't be empty: a directory laid out as a layer's zip")
			continue
		}
		v.isDir(lp, l, v.resolve(l))
	}
}

// runtimes checks the top-level interpreter map: keys are managed runtime
// names, values commands (looked up on PATH at start) or existing files.
func (v *validator) runtimes() {
	names := make([]string, 0, len(v.cfg.Runtimes))
	for k := range v.cfg.Runtimes {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		cmd := v.cfg.Runtimes[name]
		p := "runtimes." + name
		if managedRuntime(name) == "" {
			v.errorf(p, "%q is not a runtime that runs on an interpreter: nodejsN.x (e.g. nodejs22.x) or python3.N (e.g. python3.13)", name)
			continue
		}
		switch {
		case cmd == "":
			v.errorf(p, "can't be empty: the interpreter's path, or a command on PATH")
		case strings.Contains(cmd, "/"):
			st, err := os.Stat(v.resolve(cmd))
			switch {
			case err != nil:
				v.errorf(p, "interpreter %q: %s", cmd, errorReason(err))
			case st.IsDir():
				v.errorf(p, "interpreter %q is a directory", cmd)
			case st.Mode().Perm()&0o111 == 0:
				v.errorf(p, "interpreter %q is not executable", cmd)
			}
		}
	}
}
