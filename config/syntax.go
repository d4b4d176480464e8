package config

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// yaml.v3 tells only a line, and often the wrong one: for a parser error
// it prints the 0-based line of the enclosing construct's start (the
// context mark) as if it were 1-based, so an indentation mistake on line 4
// comes out as "line 2", or as no line at all on line 1; the problem mark,
// which says where parsing failed, is not exported (decode.go, fail).
// syntaxError finds that place again by re-parsing prefixes of the
// document: the shortest prefix that fails with the same problem ends at
// the token that caused it. Bisection finds the line (the first whose
// inclusion makes the prefix fail), then the character on it; a key's
// problem is placed at the key's start, a tab's at the tab, an unknown
// alias's at its '*'. The UTF-8 errors of yaml.v3's reader are placed at
// the first invalid byte directly. Limits:
//   - An error inside a flow collection ({…}, […]) or a quoted string
//     spanning lines may be placed where that construct is cut open, when
//     a prefix ending inside it fails the same way (e.g. "did not find
//     expected ',' or '}'"): the construct to look at, if not the exact
//     character.
//   - Re-parsing is bounded (rescanBudget bytes in all); past it, or when
//     no prefix fails the same way, the position is yaml.v3's own line and
//     its first non-blank column.

// rescanBudget bounds the bytes syntaxError re-parses in all (well under a
// second; a config of a few KB needs some tens of KB).
const rescanBudget = 4 << 20

var yamlLineRE = lazyRegexp(`^yaml: line (\d+): (.*)$`)

// yamlProblem splits a yaml.v3 error into its line (0 when it gave none)
// and its problem text.
func yamlProblem(err error) (line int, problem string) {
	msg := err.Error()
	if m := yamlLineRE().FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		return line, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// syntaxError turns parseYAML's error for data into an *Error at the place
// a reader must fix.
func syntaxError(data []byte, err error) *Error {
	var e *Error
	if errors.As(err, &e) { // parseYAML's own (more than one document)
		return e
	}
	hint, problem := yamlProblem(err)
	var line, col int
	if strings.Contains(problem, "UTF-8") {
		// The reader's errors are about bytes: the first invalid one is
		// the place (a prefix cut inside a sequence fails differently).
		line, col = invalidUTF8(data)
	} else {
		r := rescan{data: data, problem: problem, budget: rescanBudget}
		line, col = r.position()
	}
	if line == 0 {
		line = max(hint, 1)
		col = firstNonBlank(lineText(data, line))
	}
	msg := "invalid YAML: " + problem
	text := lineText(data, line)
	switch {
	case strings.Contains(problem, "UTF-8"):
		msg += " (the file must be UTF-8)"
	case runeAt(text, col) == '\t':
		msg += " (a tab: YAML indents with spaces only)"
	case problem == "mapping values are not allowed in this context" && col == firstNonBlank(text):
		msg += " (is this line indented too far?)"
	}
	return &Error{Line: line, Column: col, Msg: msg}
}

// invalidUTF8 is the position of the first byte of data that is not
// valid UTF-8 (0, 0 if there is none).
func invalidUTF8(data []byte) (line, col int) {
	line, col = 1, 1
	for len(data) > 0 {
		r, w := utf8.DecodeRune(data)
		if r == utf8.RuneError && w == 1 {
			return line, col
		}
		col++
		if r == '\n' {
			line, col = line+1, 1
		}
		data = data[w:]
	}
	return 0, 0
}

// rescan re-parses prefixes of data looking for the shortest one that
// fails with problem.
type rescan struct {
	data    []byte
	problem string
	budget  int // bytes left to parse
}

// fails reports whether prefix fails to parse with the same problem.
func (r *rescan) fails(prefix []byte) bool {
	r.budget -= len(prefix)
	_, err := parseYAML(prefix)
	if err == nil {
		return false
	}
	_, p := yamlProblem(err)
	return p == r.problem
}

// position is the 1-based line and column of the problem, or 0, 0 when
// the budget ran out or no prefix fails the same way.
func (r *rescan) position() (line, col int) {
	var ends []int // offset just past each line, its '\n' included
	for start := 0; start < len(r.data); {
		end := len(r.data)
		if i := bytes.IndexByte(r.data[start:], '\n'); i >= 0 {
			end = start + i + 1
		}
		ends = append(ends, end)
		start = end
	}
	k, ok := r.first(len(ends), func(i int) []byte { return r.data[:ends[i]] })
	if !ok {
		return 0, 0
	}
	start := 0
	if k > 0 {
		start = ends[k-1]
	}
	return k + 1, r.column(start, ends[k])
}

// first is the smallest i in [0, n) for which the prefix(i) fails the same
// way, by bisection: a prefix that ends before the problem parses (or
// fails otherwise) and one that ends after it fails, so failing is
// monotone in i except inside a construct cut open (see syntaxError).
// ok is false when prefix(n-1) does not fail or the budget ran out.
func (r *rescan) first(n int, prefix func(i int) []byte) (i int, ok bool) {
	if n == 0 || !r.fails(prefix(n-1)) {
		return 0, false
	}
	lo, hi := 0, n-1 // prefix(hi) fails
	for lo < hi {
		mid := lo + (hi-lo)/2
		if r.budget < 0 {
			return 0, false
		}
		if r.fails(prefix(mid)) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return hi, r.budget >= 0
}

// column is the 1-based column (in characters) on the line data[start:end]
// whose character first makes the prefix fail; a tab run just before it is
// the culprit instead (YAML forbids tabs in indentation, and a tab fails
// only once the token after it appears).
func (r *rescan) column(start, end int) int {
	text := r.data[start:end]
	var offs []int // offset just past each character
	for i := 0; i < len(text); {
		_, w := utf8.DecodeRune(text[i:])
		i += w
		offs = append(offs, start+i)
	}
	c, ok := r.first(len(offs), func(i int) []byte { return r.data[:offs[i]] })
	if !ok || c == len(offs)-1 && text[len(text)-1] == '\n' {
		// Only the line end made it fail.
		return firstNonBlank(text)
	}
	found := c + 1
	for found > 1 && runeAt(text, found-1) == '\t' {
		found--
	}
	switch {
	case strings.HasPrefix(r.problem, "unknown anchor"):
		// The alias fails only once its whole name is there: point at
		// its '*'.
		for found > 1 && runeAt(text, found) != '*' {
			found--
		}
	case runeAt(text, found) == ':':
		// A key is known to be one only at its ':'; the parser's problem
		// is the key token, which starts where the key's text does.
		key := found
		for key > 1 && !strings.ContainsRune(" \t{[,", runeAt(text, key-1)) {
			key--
		}
		// "mapping values are not allowed" is about the ':' itself (a
		// value holding ": "), unless the key opens the line: then the
		// line was indented too far and continued the scalar above.
		if r.problem != "mapping values are not allowed in this context" || key == firstNonBlank(text) {
			found = key
		}
	}
	return found
}

// lineText is the 1-based line n of data, without its line end ("" past
// the end).
func lineText(data []byte, n int) []byte {
	for ; n > 1; n-- {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil
		}
		data = data[i+1:]
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	return bytes.TrimSuffix(data, []byte("\r"))
}

// firstNonBlank is the 1-based column of the first character of text that
// is not a space or tab (1 for a blank line).
func firstNonBlank(text []byte) int {
	col := 1
	for _, r := range string(text) {
		if r != ' ' && r != '\t' {
			return col
		}
		col++
	}
	return 1
}

// runeAt is the character at 1-based column col of text (utf8.RuneError
// past the end).
func runeAt(text []byte, col int) rune {
	for _, r := range string(text) {
		if col--; col == 0 {
			return r
		}
	}
	return utf8.RuneError
}
