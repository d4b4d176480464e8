package main

import "io"

// Hidden subcommands: not listed by usage because users never type them.
// The executor runs __builtin as the bootstrap of builtin functions; bench
// runs the other two as the ceiling's origin and proxy processes.
func init() {
	hidden := map[string]func(args []string) int{
		builtinSubcommand:     runBuiltin,
		benchOriginSubcommand: runBenchOrigin,
		benchProxySubcommand:  runBenchProxy,
	}
	for name, fn := range hidden {
		commands[name] = command{run: func(args []string, _, _ io.Writer) int { return fn(args) }}
	}
}
