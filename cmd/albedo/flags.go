package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// flags is one subcommand's command line: its flags, the positional
// arguments it takes, and the help that -h prints.
type flags struct {
	*flag.FlagSet
	synopsis string // "albedo serve [flags] [FILE]"
	about    string // what the command does, one paragraph
}

// newFlags returns the FlagSet of `albedo name`. It prints nothing itself:
// parse decides where help and errors go.
func newFlags(name, synopsis, about string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{FlagSet: fs, synopsis: synopsis, about: about}
}

// usage writes the synopsis, the description and the flags to w.
func (f *flags) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n", f.synopsis)
	if f.about != "" {
		fmt.Fprintf(w, "\n%s\n", f.about)
	}
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nflags:")
		f.SetOutput(w)
		f.PrintDefaults()
		f.SetOutput(io.Discard)
	}
}

// parse parses args, flags and positional arguments in any order (so
// `albedo serve other.yaml -access-log -` works), and returns the
// positional ones; everything after "--" is positional. -h, -help and
// --help print the usage on stdout and end the command with status 0; a
// bad flag, or more than maxPositional positional arguments, prints the
// reason and the usage on stderr and ends it with 2. ok reports whether
// the command should go on; when it is false, return code.
func (f *flags) parse(args []string, maxPositional int, stdout, stderr io.Writer) (positional []string, code int, ok bool) {
	for {
		err := f.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			f.usage(stdout)
			return nil, 0, false
		}
		if err != nil {
			return nil, f.fail(stderr, "%v", err), false
		}
		rest := f.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if len(positional) > maxPositional {
		extra := positional[maxPositional:]
		if maxPositional == 0 {
			return nil, f.fail(stderr, "unexpected argument %q: %s takes none", extra[0], f.Name()), false
		}
		return nil, f.fail(stderr, "unexpected argument %q: %s takes one config file at most", extra[0], f.Name()), false
	}
	return positional, 0, true
}

// fail prints "albedo <command>: reason" and the synopsis on stderr and
// returns the bad-usage status.
func (f *flags) fail(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "albedo %s: %s\n", f.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "usage: %s\n(albedo help %s prints the flags)\n", f.synopsis, f.Name())
	return 2
}

// parseConfig is parse for serve and validate: their one positional
// argument is the config file, which -config (value) may name instead;
// both at once is an error. path is "" when neither names one.
func (f *flags) parseConfig(args []string, value *string, stdout, stderr io.Writer) (path string, code int, ok bool) {
	positional, code, ok := f.parse(args, 1, stdout, stderr)
	if !ok {
		return "", code, false
	}
	if len(positional) == 0 {
		return *value, 0, true
	}
	if *value != "" {
		return "", f.fail(stderr, "config file given twice (-config %q and %q): give one", *value, positional[0]), false
	}
	if p := positional[0]; p == "" || p == "-" {
		return "", f.fail(stderr, "invalid config path %q", positional[0]), false
	}
	return positional[0], 0, true
}
