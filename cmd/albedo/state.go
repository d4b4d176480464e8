package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/async"
	"github.com/albedo-lb/albedo/targetgroup/executor/policy"
	"github.com/albedo-lb/albedo/targetgroup/executor/statefile"
)

// stateFiles are the files in state_dir, in the order serve opens them.
var stateFiles = []statefile.Spec{policy.StateFile, async.StateFile}

// stateLockWait is how long check and salvage wait for a file another
// process holds: short, since that process is normally a running albedo.
const stateLockWait = time.Second

// stateOpenError explains a state file that serve could not open: held by
// another albedo, or damaged (with the command that recovers it).
func stateOpenError(dir string, err error) error {
	var d *statefile.DamagedError
	switch {
	case errors.Is(err, statefile.ErrLocked):
		return fmt.Errorf("state_dir %s is locked by another albedo process (run one albedo per state_dir, or set state_dir): %w", dir, err)
	case errors.As(err, &d):
		return errors.New(damagedMessage(d, dir))
	}
	return err
}

// damagedMessage tells what is damaged, what is at stake and what to do.
func damagedMessage(d *statefile.DamagedError, dir string) string {
	name := filepath.Base(d.Path)
	return fmt.Sprintf(`state file %s is damaged: %s
  It holds %s.
  To keep every record that can still be read, run
      albedo state salvage -state-dir %s
  which copies them into a fresh %s, keeps the damaged file as %s.damaged-<time>,
  and prints how many records it kept and lost; then start albedo again.
  (Deleting %s instead starts empty and loses all it held.)`,
		d.Path, d.Detail(), d.Holds, shellQuote(dir), name, name, d.Path)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

const stateUsage = `usage: albedo state check|salvage [-config FILE | -state-dir DIR]

  check    read every state file as serve would and report each: ok (with its
           records), damaged (with what is wrong), missing or locked.
           Exit 0 when every file is usable, 1 otherwise.
  salvage  for each damaged file: copy every readable record (events with
           their retry state, event-invoke-configs, policies) into a fresh
           file, keep the damaged one as <name>.damaged-<UTC time>, and
           print how many records were kept and lost. Sound files are left
           as they are. Refused while an albedo serves the state_dir.

The state_dir is the config's (-config FILE, else ./albedo.yaml, else the
embedded default's .albedo), or DIR itself.
`

// runState is `albedo state check|salvage`.
func runState(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		w, code := stderr, 2
		if len(args) > 0 {
			w, code = stdout, 0
		}
		fmt.Fprint(w, stateUsage)
		return code
	}
	verb := args[0]
	if verb != "check" && verb != "salvage" {
		fmt.Fprintf(stderr, "albedo state: unknown command %q\n%s", verb, stateUsage)
		return 2
	}
	fs := flag.NewFlagSet("state "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), stateUsage) }
	path := fs.String("config", "", "config file whose state_dir to use [./albedo.yaml if present, else the embedded default]")
	dirFlag := fs.String("state-dir", "", "the state directory itself (no config needed)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || *path != "" && *dirFlag != "" {
		fmt.Fprintf(stderr, "albedo state %s: give -config FILE or -state-dir DIR, once\n%s", verb, stateUsage)
		return 2
	}
	dir := *dirFlag
	if dir == "" {
		cfg, _, err := loadConfig(*path)
		if err != nil {
			printConfigError(stderr, err)
			return 2
		}
		dir = cfg.StateDir
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	fmt.Fprintf(stdout, "state_dir %s\n", dir)
	ok := true
	for _, spec := range stateFiles {
		var line string
		var fine bool
		if verb == "check" {
			line, fine = checkStateFile(dir, spec)
		} else {
			line, fine = salvageStateFile(dir, spec)
		}
		fmt.Fprintf(stdout, "  %-10s %s\n", spec.Name, line)
		ok = ok && fine
	}
	if !ok {
		return 1
	}
	return 0
}

// checkStateFile reports one file; fine is false when serve could not
// use it.
func checkStateFile(dir string, spec statefile.Spec) (line string, fine bool) {
	rep, err := statefile.Check(dir, spec, stateLockWait)
	return describeCheck(dir, spec, rep, err)
}

// describeCheck renders the outcome of statefile.Check.
func describeCheck(dir string, spec statefile.Spec, rep statefile.Report, err error) (line string, fine bool) {
	var d *statefile.DamagedError
	switch {
	case errors.Is(err, statefile.ErrLocked):
		return "locked: an albedo is serving this state_dir; stop it to check", false
	case errors.As(err, &d):
		return fmt.Sprintf("damaged: %s\n%sreadable: %s\n%sit holds %s; recover what is readable with: albedo state salvage -state-dir %s",
			d.Detail(), indent, counts(rep.Buckets), indent, spec.Holds, shellQuote(dir)), false
	case err != nil:
		return "error: " + err.Error(), false
	case rep.Missing:
		return "not there yet (nothing stored)", true
	case rep.Empty:
		return "empty (0 bytes): albedo starts it afresh; " + emptyFileMeaning(spec), true
	}
	return "ok: " + counts(rep.Buckets), true
}

// emptyFileMeaning says what a zero-length state file means: bbolt writes
// its first pages as soon as it creates a file, so a file of 0 bytes was
// almost always truncated (a full disk, a copy cut short).
func emptyFileMeaning(spec statefile.Spec) string {
	return "if it held " + spec.Holds + ", they were lost before albedo read it (a full disk, a truncated copy)"
}

// warnEmptyStateFiles logs each zero-length state file in dir before the
// files are opened (which initialises them as new): the one moment albedo
// can still tell that records may have been lost.
func warnEmptyStateFiles(dir string, log *slog.Logger) {
	for _, spec := range stateFiles {
		path := filepath.Join(dir, spec.Name)
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
			log.Warn("state file is empty (0 bytes): albedo starts it afresh; "+emptyFileMeaning(spec), "file", path)
		}
	}
}

// salvageStateFile salvages one file when it is damaged.
func salvageStateFile(dir string, spec statefile.Spec) (line string, fine bool) {
	checked, err := statefile.Check(dir, spec, stateLockWait)
	if !errors.Is(err, statefile.ErrDamaged) {
		line, fine = describeCheck(dir, spec, checked, err)
		if fine {
			line += "; left as it is"
		}
		return line, fine
	}
	rep, err := statefile.Salvage(dir, spec, stateLockWait, time.Now())
	switch {
	case errors.Is(err, statefile.ErrLocked):
		return "locked: an albedo is serving this state_dir; stop it, then salvage", false
	case err != nil:
		return "salvage failed: " + err.Error(), false
	case rep.Missing:
		return "not there (nothing to salvage)", true
	}
	var kept, lost []string
	for _, b := range rep.Buckets {
		kept = append(kept, records(b.Kept, b))
		l := records(b.Lost, b)
		switch {
		case !b.Found:
			l = "all " + b.Records + " (none could be reached)"
		case b.LostPages > 0:
			l += fmt.Sprintf(" and those on %d page(s) it could not read or reach (a damaged branch page hides the pages below it)", b.LostPages)
		}
		lost = append(lost, l)
	}
	return fmt.Sprintf("salvaged: kept %s; lost %s\n%sthe damaged file is kept as %s",
		strings.Join(kept, ", "), strings.Join(lost, ", "), indent, filepath.Base(rep.Aside)), true
}

// indent continues a file's line in the listing.
const indent = "             "

// counts renders a check report's records: "12 events, 1 event-invoke-config".
func counts(buckets []statefile.BucketReport) string {
	var parts []string
	for _, b := range buckets {
		s := records(b.Kept, b)
		if b.Lost > 0 {
			s += fmt.Sprintf(" (+%d damaged)", b.Lost)
		}
		if b.LostPages > 0 {
			s += fmt.Sprintf(" (+%d page(s) that could not be read or reached)", b.LostPages)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "no records"
	}
	return strings.Join(parts, ", ")
}

// records renders n records of b: "1 event", "3 events".
func records(n int, b statefile.BucketReport) string {
	if n == 1 {
		return "1 " + b.Record
	}
	return fmt.Sprintf("%d %s", n, b.Records)
}
