// Command albedo is a local AWS Application Load Balancer with Lambda target
// groups, and the Lambda service that runs the functions.
//
// Usage:
//
//	albedo [serve] [flags]        run the load balancer (the default)
//	albedo validate [-config FILE] check a configuration and print a summary
//	albedo version                 print the version
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

// defaultCommand runs when the first argument is not a command name.
const defaultCommand = "serve"

var commands = map[string]command{
	"serve": {
		summary: "run the load balancer (default)",
		run:     func(args []string, _, _ io.Writer) int { return runServe(args) },
	},
	"validate": {summary: "check a configuration file and print a summary", run: runValidate},
	"state":    {summary: "check or salvage the state files (async queue, policies): state check|salvage", run: runState},
	"version":  {summary: "print the version", run: runVersion},
	"bench": {
		summary: "end-to-end benchmark: albedo vs a plain fasthttp proxy (loopback)",
		run:     func(args []string, _, _ io.Writer) int { return runBench(args) },
	},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args (without the program name) to a subcommand and
// returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	name := defaultCommand
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	switch name {
	case "help":
		usage(stdout)
		return 0
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "albedo: unknown command %q\n", name)
		usage(stderr)
		return 2
	}
	return cmd.run(args, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: albedo [command] [flags]")
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
	fmt.Fprintln(w, "run 'albedo <command> -h' for a command's flags")
}
