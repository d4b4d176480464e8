// Command albedo is a local AWS Application Load Balancer with Lambda target
// groups, and the Lambda service that runs the functions.
//
// Usage (the commands table below is the one list of commands):
//
//	albedo [serve] [FILE | -config FILE] [-access-log FILE|-]
//	        [-log-level LEVEL] [-log-format text|json] [-watch [-watch-poll]]
//	                      serve FILE, else ./albedo.yaml, else the embedded
//	                      default, until SIGINT/SIGTERM (the default command);
//	                      SIGHUP and -watch reload the config, -watch also a
//	                      function's code; SIGUSR1 reopens the access log
//	albedo validate [FILE | -config FILE]
//	                      check a configuration and print a summary
//	albedo state check|salvage [-config FILE | -state-dir DIR]
//	                      check the state files of state_dir, or salvage the
//	                      damaged ones
//	albedo version        print the version
//	albedo bench [-duration 10s] [-concurrency 1,64] [-runtime go,node,python]
//	        [-cold 5] [-ceiling=false] [-remote] [-access-log]
//	                      end-to-end benchmark on loopback against a plain
//	                      fasthttp proxy
//	albedo help [COMMAND] the command list, or one command's flags
//
// "albedo -h" (also -help, --help) is "albedo help"; "albedo COMMAND -h"
// prints that command's flags; both exit 0. Anything unexpected (an unknown
// command or flag, a stray argument, a config path given both as -config
// and positionally) prints the reason and exits 2.
//
// Exit status: 0 on success, 2 for an invalid configuration or bad usage,
// 1 for other failures.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
	// hidden commands are albedo's own plumbing, run by albedo itself
	// and never typed by users: usage does not list them and help does
	// not know them.
	hidden bool
}

// hiddenCommand is a hidden subcommand: it writes to os.Stdout and
// os.Stderr itself, since it runs as a process of its own.
func hiddenCommand(run func(args []string) int) command {
	return command{hidden: true, run: func(args []string, _, _ io.Writer) int { return run(args) }}
}

// defaultCommand runs when the first argument is a flag: `albedo -config
// FILE` serves. Plain `albedo` prints the command list.
const defaultCommand = "serve"

// commands lists every subcommand. "help" (and -h, -help, --help) is
// dispatched by run before this table is consulted, since it reads it.
var commands = map[string]command{
	"serve":    {summary: "run the load balancer (also albedo -FLAG ..., without the command)", run: runServe},
	"validate": {summary: "check a configuration file and print a summary", run: runValidate},
	"state":    {summary: "check or salvage the state files (async queue, policies): state check|salvage", run: runState},
	"version":  {summary: "print the version", run: runVersion},
	"bench":    {summary: "end-to-end benchmark: albedo vs a plain fasthttp proxy (loopback)", run: runBench},

	// The executor runs __builtin as the bootstrap of builtin functions
	// (executor.Options.BuiltinCommand); bench runs the other two as the
	// ceiling's origin and proxy processes.
	builtinSubcommand:     hiddenCommand(runBuiltin),
	benchOriginSubcommand: hiddenCommand(runBenchOrigin),
	benchProxySubcommand:  hiddenCommand(runBenchProxy),
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args (without the program name) to a subcommand and
// returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return 0
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return runHelp(args[1:], stdout, stderr)
	}
	name := defaultCommand
	if !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "albedo: unknown command %q", name)
		if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
			fmt.Fprintf(stderr, " (to serve that file: albedo serve %s)", name)
		}
		fmt.Fprintln(stderr)
		usage(stderr)
		return 2
	}
	return cmd.run(args, stdout, stderr)
}

// runHelp is `albedo help [COMMAND]`: the command list, or the command's
// own -h.
func runHelp(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		usage(stdout)
		return 0
	case len(args) > 1:
		fmt.Fprintf(stderr, "albedo help: unexpected argument %q: help takes one command name\n", args[1])
		return 2
	}
	cmd, ok := commands[args[0]]
	if !ok || cmd.hidden {
		fmt.Fprintf(stderr, "albedo help: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return cmd.run([]string{"-h"}, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: albedo [command] [flags] [args]")
	fmt.Fprintln(w, "  albedo serve [FILE] serves FILE, else ./albedo.yaml, else the embedded default config")
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n, cmd := range commands {
		if !cmd.hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "run 'albedo help <command>' or 'albedo <command> -h' for a command's flags")
}
