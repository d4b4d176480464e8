package httpwire

import (
	"bytes"
	"math"
	"net/url"
	"strconv"

	"github.com/albedo-lb/albedo/internal/ascii"
)

// isToken reports whether b is a non-empty RFC 9110 token (a method, a
// field name).
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !ascii.IsTokenChar(c) {
			return false
		}
	}
	return true
}

// validValue reports whether b may be a field value: no control
// character but horizontal tab (net/http's rule; a bare CR or NUL could
// end or split the field for another reader).
func validValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// trimBlanks drops leading and trailing spaces and tabs.
func trimBlanks(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseLength parses a Content-Length value as net/http does: decimal
// digits only (leading zeros too), below 2^63.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseHex parses a chunk size: 1-16 hex digits. Sizes beyond 2^62 are
// capped there: no body that large can arrive.
func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b), 16, 64)
	return int64(min(n, 1<<62)), err == nil
}

// validTarget reports whether net/http would accept target as the
// request target of method: url.ParseRequestURI's rules (CONNECT's
// authority form prefixed with "http://" first, as net/http does). The
// usual target, a path without '%' or control characters, needs no
// parse.
func validTarget(method, target []byte) bool {
	if len(target) == 0 {
		return false
	}
	if target[0] == '/' {
		plain := true
		for _, c := range target {
			if c == '%' || c < ' ' || c == 0x7f {
				plain = false
				break
			}
		}
		if plain {
			return true
		}
	}
	raw := string(target)
	if string(method) == "CONNECT" && target[0] != '/' {
		raw = "http://" + raw
	}
	_, err := url.ParseRequestURI(raw)
	return err == nil
}

// targetPath is the path of a valid request target: an origin-form target
// without its query; for an absolute-form one ("http://host/p?q") the
// part after the authority, before the query ("" when there is none, or
// when the target has no path, as "*", "mailto:x" or CONNECT's
// "host:443").
func targetPath(target []byte) []byte {
	for i, c := range target {
		if c == '?' {
			target = target[:i]
			break
		}
	}
	if len(target) > 0 && target[0] == '/' {
		return target
	}
	rest, ok := cutScheme(target)
	if !ok {
		return nil // "*"
	}
	if len(rest) >= 2 && rest[0] == '/' && rest[1] == '/' {
		rest = rest[2:]
		for i, c := range rest {
			if c == '/' {
				return rest[i:]
			}
		}
		return nil
	}
	if len(rest) > 0 && rest[0] == '/' {
		return rest
	}
	return nil // opaque
}

// cutScheme returns what follows "scheme:" in target (url.Parse's
// scheme syntax: a letter, then letters, digits, '+', '-', '.').
func cutScheme(target []byte) ([]byte, bool) {
	for i, c := range target {
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.':
			if i == 0 {
				return nil, false
			}
		case c == ':':
			return target[i+1:], i > 0
		default:
			return nil, false
		}
	}
	return nil, false
}

// hasToken reports whether the comma, space or tab separated list v holds
// token (ASCII case-insensitive): net/http's reading of Expect (its
// hasToken), which FuzzAgainstNetHTTP holds this package to.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' && v[i] != ' ' && v[i] != '\t' {
			i++
		}
		if ascii.EqualFold(v[:i], token) {
			return true
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return false
}

// listHas reports whether the comma-separated list v holds elem (blanks
// around elements ignored, ASCII case-insensitive): net/http's reading of
// Connection and Trailer (httpguts.HeaderValuesContainsToken), which
// differs from hasToken's for "close x" and must stay apart from it.
func listHas(v []byte, elem string) bool {
	for len(v) > 0 {
		item := v
		if i := bytes.IndexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if ascii.EqualFold(trimBlanks(item), elem) {
			return true
		}
	}
	return false
}
