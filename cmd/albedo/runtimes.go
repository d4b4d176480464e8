package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// checkRuntimes probes the interpreter of every managed runtime (nodejsN.x,
// python3.N) the config's functions use, as the executor would at start,
// and reports each problem where a user fixes it: at the runtimes entry
// when albedo.yaml names the interpreter, else at the runtime of the first
// function using it. Probes are cached, so validate, serve and the
// executor ask each interpreter once.
func checkRuntimes(cfg *config.Config) (map[string]executor.Interpreter, config.Errors, config.Errors) {
	interps := map[string]executor.Interpreter{}
	var errs, warns config.Errors
	var seen []string
	for i, f := range cfg.Functions {
		if !isManagedRuntime(f.Runtime) || slices.Contains(seen, f.Runtime) {
			continue
		}
		seen = append(seen, f.Runtime)
		command, named := cfg.Runtimes[f.Runtime]
		path := fmt.Sprintf("functions[%d].runtime", i)
		if named {
			path = "runtimes." + f.Runtime
		}
		in, err := executor.ProbeInterpreter(f.Runtime, command)
		var ie *executor.InterpreterError
		switch {
		case errors.As(err, &ie):
			errs = append(errs, cfg.ErrorAt(path, "%s", ie.Msg))
		case err != nil:
			errs = append(errs, cfg.ErrorAt(path, "%v", err))
		default:
			interps[f.Runtime] = in
			if in.Warning != "" {
				warns = append(warns, cfg.ErrorAt(path, "warning: %s", in.Warning))
			}
		}
	}
	return interps, errs, warns
}

// isManagedRuntime reports whether runtime runs on an interpreter with one
// of albedo's runtime clients.
func isManagedRuntime(runtime string) bool {
	return strings.HasPrefix(runtime, "nodejs") || strings.HasPrefix(runtime, "python")
}

// printProblems writes each problem on its own line.
func printProblems(w io.Writer, problems config.Errors) {
	for _, p := range problems {
		fmt.Fprintln(w, p)
	}
}
