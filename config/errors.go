package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every error Load and Parse return
// because the configuration itself is wrong, as opposed to an I/O error
// reading the file.
var ErrInvalid = errors.New("config: invalid configuration")

// Error is one problem found in a configuration file. Line and Column are
// the 1-based position of the offending YAML node, or for a syntax error of
// the character where parsing fails (1:1 for an empty document); Path is
// the field path such as
// "listeners[0].rules[2].priority" ("" for problems with the document as a
// whole).
type Error struct {
	File   string
	Line   int
	Column int
	Path   string
	Msg    string
}

// Error formats the problem as "file:line:col: path: msg", leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, "%d:", e.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Errors is every problem found in one file, sorted by line, column and
// path. Its Error method puts one problem per line; callers that print them
// individually range over the slice (errors.As(err, &errs)).
type Errors []*Error

// Error joins the problems with newlines.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Is reports whether target is ErrInvalid.
func (es Errors) Is(target error) bool { return target == ErrInvalid }

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Path < b.Path
	})
}

// ErrorAt is a problem with the field at path (such as
// "target_groups[0].targets[0]" or "functions[2].runtime") found after
// loading, by callers that find what the file alone cannot show (a refused
// remote policy, an interpreter that is too old), positioned where the
// field, or its nearest written parent, was written in c's file; it matches
// ErrInvalid like the problems Load reports.
func (c *Config) ErrorAt(path, format string, args ...any) *Error {
	e := &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
	if c.written == nil {
		return e
	}
	e.File = c.written.file
	for p := path; ; p = parentPath(p) {
		if pos, ok := c.written.pos[p]; ok && (pos.line > 0 || p == "") {
			e.Line, e.Column = pos.line, pos.col
			return e
		}
		if p == "" {
			return e
		}
	}
}
