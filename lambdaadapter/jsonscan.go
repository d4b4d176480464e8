package lambdaadapter

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The decoder's JSON reading (RFC 8259): whitespace, literals, numbers,
// strings, objects and arrays, each method starting at d.i and leaving
// d.i after what it read. Errors carry the offset where reading stopped.

func (d *decoder) peek() byte {
	if d.i < len(d.p) {
		return d.p[d.i]
	}
	return 0
}

func (d *decoder) ws() {
	for d.i < len(d.p) {
		switch d.p[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) lit(s string) bool {
	if len(d.p)-d.i >= len(s) && string(d.p[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

// key reads an object member's key and the ':' after it.
func (d *decoder) key() (span, error) {
	if d.peek() != '"' {
		return span{}, d.syntax("object key")
	}
	k, err := d.readString()
	if err != nil {
		return span{}, err
	}
	d.ws()
	if d.peek() != ':' {
		return span{}, d.syntax("':'")
	}
	d.i++
	d.ws()
	return k, nil
}

func (d *decoder) syntax(want string) error {
	return invalid("invalid JSON at offset " + strconv.Itoa(d.i) + ": want " + want)
}

// typeErr says that field holds the wrong type of value (the one at d.i).
func (d *decoder) typeErr(field, want string) error {
	got := "nothing"
	switch c := d.peek(); {
	case c == 'n':
		got = "null"
	case c == '"':
		got = "a string"
	case c == 't' || c == 'f':
		got = "a boolean"
	case c == '[':
		got = "an array"
	case c == '{':
		got = "an object"
	case c == '-' || ('0' <= c && c <= '9'):
		got = "a number"
	case c != 0:
		return d.syntax("a value")
	}
	return invalid(field + ": must be " + want + ", got " + got)
}

// number scans a JSON number and reports whether it is an integer (no
// fraction, no exponent).
func (d *decoder) number() (integer bool, err error) {
	p, i := d.p, d.i
	if i < len(p) && p[i] == '-' {
		i++
	}
	switch {
	case i < len(p) && p[i] == '0':
		i++
	case i < len(p) && p[i] >= '1' && p[i] <= '9':
		i = skipDigits(p, i)
	default:
		d.i = i
		return false, d.syntax("digit")
	}
	integer = true
	if i < len(p) && p[i] == '.' {
		integer = false
		if i, err = d.digits(i + 1); err != nil {
			return false, err
		}
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		integer = false
		i++
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		if i, err = d.digits(i); err != nil {
			return false, err
		}
	}
	d.i = i
	return integer, nil
}

// digits returns the offset after the run of digits at d.p[i:], which
// must not be empty (a fraction's or an exponent's).
func (d *decoder) digits(i int) (int, error) {
	if i >= len(d.p) || d.p[i] < '0' || d.p[i] > '9' {
		d.i = i
		return 0, d.syntax("digit")
	}
	return skipDigits(d.p, i), nil
}

// skipDigits returns the offset after the digits at p[i:].
func skipDigits(p []byte, i int) int {
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	return i
}

// object walks a JSON object whose '{' is at d.i, calling member with d.i
// at each key (see key).
func (d *decoder) object(member func() error) error {
	return d.list('}', member)
}

// array walks a JSON array whose '[' is at d.i, calling elem with d.i at
// each element.
func (d *decoder) array(elem func() error) error {
	return d.list(']', elem)
}

// list walks the items of an object or array whose opening bracket is at
// d.i and whose closing one is end: item reads each, list the commas and
// the brackets.
func (d *decoder) list(end byte, item func() error) error {
	d.i++
	d.ws()
	if d.peek() == end {
		d.i++
		return nil
	}
	for {
		d.ws()
		if err := item(); err != nil {
			return err
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.i++
		case end:
			d.i++
			return nil
		default:
			return d.syntax("',' or '" + string(rune(end)) + "'")
		}
	}
}

// skip validates and skips any JSON value nested at most maxNesting deep.
func (d *decoder) skip(depth int) error {
	if depth > maxNesting {
		return invalid("JSON nested too deeply")
	}
	switch c := d.peek(); {
	case c == '"':
		return d.skipString()
	case c == '{':
		return d.object(func() error {
			mark := len(d.strs)
			if _, err := d.key(); err != nil {
				return err
			}
			d.strs = d.strs[:mark]
			return d.skip(depth + 1)
		})
	case c == '[':
		return d.array(func() error { return d.skip(depth + 1) })
	case c == '-' || ('0' <= c && c <= '9'):
		_, err := d.number()
		return err
	case d.lit("true"), d.lit("false"), d.lit("null"):
		return nil
	}
	return d.syntax("a value")
}

// skipString validates the string at d.i without keeping it.
func (d *decoder) skipString() error {
	mark := len(d.strs)
	_, err := d.readString()
	d.strs = d.strs[:mark]
	return err
}

// readString decodes the JSON string at d.i into d.strs and returns its
// span. The payload is known to be valid UTF-8.
func (d *decoder) readString() (span, error) {
	p := d.p
	i := d.i + 1
	start := int32(len(d.strs))
	for {
		// Copy the run of plain bytes.
		j := i
		for j < len(p) && plainInString[p[j]] {
			j++
		}
		d.strs = append(d.strs, p[i:j]...)
		i = j
		if i >= len(p) {
			d.i = i
			return span{}, d.syntax("closing '\"'")
		}
		switch c := p[i]; {
		case c == '"':
			d.i = i + 1
			return span{start, int32(len(d.strs))}, nil
		case c < 0x20:
			d.i = i
			return span{}, invalid("invalid JSON at offset " + strconv.Itoa(i) + ": control character in string")
		}
		if i+1 < len(p) {
			if b := unescaped[p[i+1]]; b != 0 { // \" \\ \/ \b \f \n \r \t
				d.strs = append(d.strs, b)
				i += 2
				continue
			}
		}
		var err error
		if i, err = d.unicodeEscape(i); err != nil {
			return span{}, err
		}
	}
}

// unescaped maps the byte after a '\' to the byte the escape stands for, or
// to 0 where it is not a one-byte escape.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// unicodeEscape decodes the \uXXXX escape whose '\' is at p[i] into d.strs
// and returns the offset after it, or says why p[i:] is no valid escape.
// A UTF-16 surrogate pair written as two \u escapes is one character; a
// lone surrogate becomes U+FFFD and what follows it is read on its own, as
// encoding/json does.
func (d *decoder) unicodeEscape(i int) (int, error) {
	p := d.p
	if i+1 >= len(p) {
		d.i = i
		return 0, d.syntax("escape")
	}
	if p[i+1] != 'u' {
		d.i = i + 1
		return 0, d.syntax("valid escape")
	}
	i += 2
	r, ok := hex4(p, i)
	if !ok {
		d.i = i
		return 0, d.syntax("4 hex digits")
	}
	i += 4
	if utf16.IsSurrogate(r) {
		if r = utf16.DecodeRune(r, escapedRune(p, i)); r != utf8.RuneError {
			i += len(`\uXXXX`)
		}
	}
	d.strs = utf8.AppendRune(d.strs, r)
	return i, nil
}

// escapedRune is the code unit of the \uXXXX escape at p[i:], or -1.
func escapedRune(p []byte, i int) rune {
	if i+1 < len(p) && p[i] == '\\' && p[i+1] == 'u' {
		if r, ok := hex4(p, i+2); ok {
			return r
		}
	}
	return -1
}

func hex4(p []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(p) {
		return 0, false
	}
	var r rune
	for _, c := range p[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
