// Command albedo is a local AWS Application Load Balancer with Lambda target
// groups, and the Lambda service that runs the functions.
//
// Usage:
//
//	albedo                                  serve ./albedo.yaml, else the embedded default
//	albedo [serve] [-config FILE | FILE]    run the load balancer (the default command);
//	                                        -watch reloads on changes, SIGHUP reloads the
//	                                        config, SIGUSR1 reopens the access log
//	albedo validate [-config FILE | FILE]   check a configuration and print a summary
//	albedo version                          print the version
//	albedo bench                            end-to-end benchmark on loopback
//	albedo help [COMMAND]                   the command list, or one command's flags
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

// command is one subcommand. Other files register theirs by adding to
// commands in an init function.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// defaultCommand runs when there are no arguments or the first one is a
// flag: `albedo` and `albedo -config FILE` serve.
const defaultCommand = "serve"

var commands = map[string]command{
	"serve":    {summary: "run the load balancer (default)", run: runServe},
	"validate": {summary: "check a configuration file and print a summary", run: runValidate},
	"state":    {summary: "check or salvage the state files (async queue, policies): state check|salvage", run: runState},
	"version":  {summary: "print the version", run: runVersion},
	"bench":    {summary: "end-to-end benchmark: albedo vs a plain fasthttp proxy (loopback)", run: runBench},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args (without the program name) to a subcommand and
// returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "help", "-h", "-help", "--help":
			return runHelp(args[1:], stdout, stderr)
		}
	}
	name := defaultCommand
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
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
	if !ok || strings.HasPrefix(args[0], "__") {
		fmt.Fprintf(stderr, "albedo help: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return cmd.run([]string{"-h"}, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: albedo [command] [flags] [args]")
	fmt.Fprintln(w, "  with no command, albedo serves ./albedo.yaml, else the embedded default config")
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		if strings.HasPrefix(n, "__") {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "run 'albedo help <command>' or 'albedo <command> -h' for a command's flags")
}
