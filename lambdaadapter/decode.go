package lambdaadapter

import (
	"encoding/base64"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/internal/ascii"
)

// rhdr is one response header: offsets into decState.str.
type rhdr struct {
	name, val span
}

type span struct{ off, end int32 }

// decState is the pooled scratch of one DecodeResponse call.
type decState struct {
	p      []byte // the payload
	i      int
	str    []byte // decoded strings, back to back
	single []rhdr // from "headers"
	multi  []rhdr // from "multiValueHeaders"
	bin    []byte // base64-decoded body
	status int
	body   span
	b64    bool
}

var decPool = sync.Pool{New: func() any { return new(decState) }}

// DecodeResponse validates the function's response payload and writes
// status, headers and body into resp, which should be freshly reset. On
// failure it returns a *ResponseError and resp is untouched: every check
// runs before the first write.
//
// In multi-value mode only multiValueHeaders is read and headers is
// dropped unread; in single-value mode the reverse. The field of the other
// mode is not even type-checked, so `null` there is accepted: aws-lambda-go's
// events.ALBTargetGroupResponse has no omitempty on either header field and
// always sends the unused one as null, and that works on AWS (aws-lambda-go
// PR #207: a Go function with Headers set answers 200 while its
// multiValueHeaders is null), while `headers: null` in single-value mode is
// a 502 (aws-lambda-go-api-proxy #79). Unknown top-level keys are ignored; a
// repeated key keeps its last value.
func DecodeResponse(payload []byte, multiValue bool, resp *fasthttp.Response) error {
	if len(payload) > MaxResponseSize {
		return &ResponseError{Reason: ReasonResponseTooLarge,
			Detail: "response is " + strconv.Itoa(len(payload)) + " bytes, over the 1 MB limit"}
	}
	st := decPool.Get().(*decState)
	defer func() {
		st.p = nil
		if cap(st.str) <= maxPooledScratch && cap(st.bin) <= maxPooledScratch &&
			cap(st.single) <= 4096 && cap(st.multi) <= 4096 { // as releaseState
			decPool.Put(st)
		}
	}()
	if err := st.parse(payload, multiValue); err != nil {
		return err
	}
	hdrs := st.single
	if multiValue {
		hdrs = st.multi
	}
	// Duplicate keys in "headers": the last wins. A linear scan per header
	// is fine for real responses; a map bounds hostile ones (1 MB of tiny
	// headers) to linear time.
	var last map[string]int
	if !multiValue && len(hdrs) > 64 {
		last = make(map[string]int, len(hdrs))
		for i, h := range hdrs {
			last[string(st.bytes(h.name))] = i
		}
	}
	shadowed := func(i int) bool {
		if multiValue {
			return false
		}
		if last != nil {
			return last[string(st.bytes(hdrs[i].name))] != i
		}
		return shadowedScan(st, hdrs, i)
	}
	size := 0
	for i, h := range hdrs {
		name, val := st.bytes(h.name), st.bytes(h.val)
		if err := checkHeader(name, val); err != nil {
			return err
		}
		if shadowed(i) {
			continue
		}
		size += len(name) + len(val) + 4
	}
	if size > MaxResponseHeaderSize {
		return invalid("headers: " + strconv.Itoa(size) + " bytes, over the 32 KB response header limit")
	}
	var body []byte
	if st.b64 {
		raw := st.bytes(st.body)
		for _, c := range raw {
			if c == '\r' || c == '\n' {
				return invalid("body: base64 with line breaks")
			}
		}
		var err error
		st.bin, err = base64.StdEncoding.AppendDecode(st.bin[:0], raw)
		if err != nil {
			return invalid("body: invalid base64: " + err.Error())
		}
		body = st.bin
	} else {
		body = st.bytes(st.body)
	}

	// Valid: write it out.
	resp.SetStatusCode(st.status)
	resp.Header.SetNoDefaultContentType(true) // the ALB adds no Content-Type
	for i, h := range hdrs {
		name := st.bytes(h.name)
		if hopByHop(name) || shadowed(i) {
			continue
		}
		resp.Header.AddBytesKV(name, st.bytes(h.val))
	}
	resp.SetBody(body)
	return nil
}

func (st *decState) bytes(s span) []byte { return st.str[s.off:s.end] }

// shadowedScan reports whether hdrs[i] is overridden by a later entry of the
// same name in a single-value headers object (JSON duplicate keys: the last
// wins).
func shadowedScan(st *decState, hdrs []rhdr, i int) bool {
	name := st.bytes(hdrs[i].name)
	for _, h := range hdrs[i+1:] {
		if string(st.bytes(h.name)) == string(name) {
			return true
		}
	}
	return false
}

// checkHeader rejects what could break the response framing: a name that
// is not an RFC 9110 token, a value with CR, LF or NUL.
func checkHeader(name, val []byte) error {
	if len(name) == 0 {
		return invalid("headers: empty header name")
	}
	for _, c := range name {
		if !ascii.IsTokenChar(c) {
			return invalid("headers: invalid character " + strconv.QuoteRune(rune(c)) + " in header name " + strconv.Quote(string(name)))
		}
	}
	for _, c := range val {
		if c == '\r' || c == '\n' || c == 0 {
			return invalid("headers: " + strconv.Quote(string(name)) + ": CR, LF or NUL in value")
		}
	}
	return nil
}

// hopByHop reports whether the ALB ignores this header from the function:
// the hop-by-hop ones (alb.md §2.4) and Content-Length, which it computes.
func hopByHop(name []byte) bool {
	if len(name) >= 6 && ascii.EqualFold(name[:6], "proxy-") {
		return true
	}
	for _, h := range [...]string{"connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "content-length"} {
		if ascii.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// fieldOf maps a top-level key to its constant name, or "" for unknown
// keys, without allocating.
func fieldOf(key []byte) string {
	switch string(key) {
	case "statusCode":
		return "statusCode"
	case "statusDescription":
		return "statusDescription"
	case "body":
		return "body"
	case "isBase64Encoded":
		return "isBase64Encoded"
	case "headers":
		return "headers"
	case "multiValueHeaders":
		return "multiValueHeaders"
	}
	return ""
}

// parse validates payload as the ALB response document.
func (st *decState) parse(payload []byte, multiValue bool) error {
	st.p, st.i = payload, 0
	st.str, st.single, st.multi = st.str[:0], st.single[:0], st.multi[:0]
	st.status, st.body, st.b64 = 0, span{}, false
	if !utf8.Valid(payload) {
		return invalid("response is not valid UTF-8")
	}
	st.ws()
	if st.i >= len(st.p) || st.p[st.i] != '{' {
		return invalid("response is not a JSON object")
	}
	st.i++
	hasStatus := false
	st.ws()
	if st.peek() == '}' {
		st.i++
	} else {
		for {
			st.ws()
			if st.peek() != '"' {
				return st.syntax("object key")
			}
			mark := len(st.str)
			key, err := st.str_()
			if err != nil {
				return err
			}
			st.ws()
			if st.peek() != ':' {
				return st.syntax("':'")
			}
			st.i++
			st.ws()
			k := fieldOf(st.bytes(key))
			switch k {
			case "statusCode":
				st.str = st.str[:mark]
				if err := st.statusCode(); err != nil {
					return err
				}
				hasStatus = true
			case "statusDescription":
				st.str = st.str[:mark]
				if err := st.stringField(k); err != nil {
					return err
				}
				st.str = st.str[:mark] // not used on the wire (UNCONFIRMED)
			case "body":
				st.str = st.str[:mark]
				if st.peek() != '"' {
					return st.typeErr(k, "a string")
				}
				if st.body, err = st.str_(); err != nil {
					return err
				}
			case "isBase64Encoded":
				st.str = st.str[:mark]
				switch {
				case st.lit("true"):
					st.b64 = true
				case st.lit("false"):
					st.b64 = false
				default:
					return st.typeErr(k, "a boolean")
				}
			case "headers":
				st.str = st.str[:mark]
				if multiValue {
					// The other mode's field is not read at all, not
					// even for null: see DecodeResponse.
					if err := st.skip(0); err != nil {
						return err
					}
					break
				}
				if err := st.headers(); err != nil {
					return err
				}
			case "multiValueHeaders":
				st.str = st.str[:mark]
				if !multiValue {
					if err := st.skip(0); err != nil {
						return err
					}
					break
				}
				if err := st.multiHeaders(); err != nil {
					return err
				}
			default:
				st.str = st.str[:mark]
				if err := st.skip(0); err != nil {
					return err
				}
			}
			st.ws()
			c := st.peek()
			st.i++
			if c == '}' {
				break
			}
			if c != ',' {
				st.i--
				return st.syntax("',' or '}'")
			}
		}
	}
	st.ws()
	if st.i < len(st.p) {
		return st.syntax("end of document")
	}
	if !hasStatus {
		return invalid("statusCode: missing")
	}
	return nil
}

func (st *decState) peek() byte {
	if st.i < len(st.p) {
		return st.p[st.i]
	}
	return 0
}

func (st *decState) ws() {
	for st.i < len(st.p) {
		switch st.p[st.i] {
		case ' ', '\t', '\n', '\r':
			st.i++
		default:
			return
		}
	}
}

func (st *decState) lit(s string) bool {
	if len(st.p)-st.i >= len(s) && string(st.p[st.i:st.i+len(s)]) == s {
		st.i += len(s)
		return true
	}
	return false
}

func (st *decState) syntax(want string) error {
	return invalid("invalid JSON at offset " + strconv.Itoa(st.i) + ": want " + want)
}

func (st *decState) typeErr(field, want string) error {
	got := "nothing"
	switch c := st.peek(); {
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
		return st.syntax("a value")
	}
	return invalid(field + ": must be " + want + ", got " + got)
}

func (st *decState) stringField(field string) error {
	if st.peek() != '"' {
		return st.typeErr(field, "a string")
	}
	_, err := st.str_()
	return err
}

// statusCode reads a JSON integer in 200..599. A 1xx is refused: it is
// never a final response (RFC 9110 §15.2), and sent as one it would leave
// the client waiting for the real answer (100) or believing the
// connection switched protocols (101). What the ALB does with one is
// UNCONFIRMED; refusing it is the only answer that keeps the client's
// connection sane.
func (st *decState) statusCode() error {
	c := st.peek()
	if c != '-' && (c < '0' || c > '9') {
		if c == '"' {
			start := st.i
			if _, err := st.str_(); err != nil {
				return err
			}
			return invalid("statusCode: must be an integer, got " + string(st.p[start:st.i]))
		}
		return st.typeErr("statusCode", "an integer")
	}
	start := st.i
	integer, err := st.number()
	if err != nil {
		return err
	}
	tok := st.p[start:st.i]
	if !integer {
		return invalid("statusCode: must be an integer, got " + string(tok))
	}
	v := 0
	for _, d := range tok {
		if d == '-' || v >= 1000 {
			return invalid("statusCode: " + string(tok) + " outside 200-599")
		}
		v = v*10 + int(d-'0')
	}
	if v < 200 || v > 599 {
		return invalid("statusCode: " + string(tok) + " outside 200-599")
	}
	st.status = v
	return nil
}

// number scans a JSON number and reports whether it is an integer (no
// fraction, no exponent).
func (st *decState) number() (integer bool, err error) {
	p, i := st.p, st.i
	if i < len(p) && p[i] == '-' {
		i++
	}
	switch {
	case i < len(p) && p[i] == '0':
		i++
	case i < len(p) && p[i] >= '1' && p[i] <= '9':
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
	default:
		st.i = i
		return false, st.syntax("digit")
	}
	integer = true
	if i < len(p) && p[i] == '.' {
		integer = false
		i++
		if i >= len(p) || p[i] < '0' || p[i] > '9' {
			st.i = i
			return false, st.syntax("digit")
		}
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		integer = false
		i++
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		if i >= len(p) || p[i] < '0' || p[i] > '9' {
			st.i = i
			return false, st.syntax("digit")
		}
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
	}
	st.i = i
	return integer, nil
}

// headers reads the single-value headers object: string → string.
func (st *decState) headers() error {
	if st.peek() != '{' {
		return st.typeErr("headers", "an object")
	}
	st.single = st.single[:0] // a repeated "headers" key replaces the first
	return st.object(func() error {
		name, err := st.str_()
		if err != nil {
			return err
		}
		if err := st.colon(); err != nil {
			return err
		}
		if st.peek() != '"' {
			return st.typeErr("headers: "+strconv.Quote(string(st.bytes(name))), "a string")
		}
		val, err := st.str_()
		if err != nil {
			return err
		}
		st.single = append(st.single, rhdr{name, val})
		return nil
	})
}

// multiHeaders reads the multiValueHeaders object: string → [string].
func (st *decState) multiHeaders() error {
	if st.peek() != '{' {
		return st.typeErr("multiValueHeaders", "an object")
	}
	st.multi = st.multi[:0]
	return st.object(func() error {
		name, err := st.str_()
		if err != nil {
			return err
		}
		if err := st.colon(); err != nil {
			return err
		}
		if st.peek() != '[' {
			return st.typeErr("multiValueHeaders: "+strconv.Quote(string(st.bytes(name))), "an array of strings")
		}
		st.i++
		st.ws()
		if st.peek() == ']' {
			st.i++
			return nil
		}
		for {
			st.ws()
			if st.peek() != '"' {
				return st.typeErr("multiValueHeaders: "+strconv.Quote(string(st.bytes(name))), "an array of strings")
			}
			val, err := st.str_()
			if err != nil {
				return err
			}
			st.multi = append(st.multi, rhdr{name, val})
			st.ws()
			switch st.peek() {
			case ',':
				st.i++
			case ']':
				st.i++
				return nil
			default:
				return st.syntax("',' or ']'")
			}
		}
	})
}

func (st *decState) colon() error {
	st.ws()
	if st.peek() != ':' {
		return st.syntax("':'")
	}
	st.i++
	st.ws()
	return nil
}

// object walks a JSON object whose opening brace is at st.i, calling member
// with st.i at each key.
func (st *decState) object(member func() error) error {
	st.i++
	st.ws()
	if st.peek() == '}' {
		st.i++
		return nil
	}
	for {
		st.ws()
		if st.peek() != '"' {
			return st.syntax("object key")
		}
		if err := member(); err != nil {
			return err
		}
		st.ws()
		switch st.peek() {
		case ',':
			st.i++
		case '}':
			st.i++
			return nil
		default:
			return st.syntax("',' or '}'")
		}
	}
}

// skip validates and skips any JSON value.
func (st *decState) skip(depth int) error {
	if depth > maxNesting {
		return invalid("JSON nested too deeply")
	}
	switch c := st.peek(); {
	case c == '"':
		mark := len(st.str)
		_, err := st.str_()
		st.str = st.str[:mark]
		return err
	case c == '{':
		return st.object(func() error {
			mark := len(st.str)
			if _, err := st.str_(); err != nil {
				return err
			}
			st.str = st.str[:mark]
			if err := st.colon(); err != nil {
				return err
			}
			return st.skip(depth + 1)
		})
	case c == '[':
		st.i++
		st.ws()
		if st.peek() == ']' {
			st.i++
			return nil
		}
		for {
			st.ws()
			if err := st.skip(depth + 1); err != nil {
				return err
			}
			st.ws()
			switch st.peek() {
			case ',':
				st.i++
			case ']':
				st.i++
				return nil
			default:
				return st.syntax("',' or ']'")
			}
		}
	case c == '-' || ('0' <= c && c <= '9'):
		_, err := st.number()
		return err
	case st.lit("true"), st.lit("false"), st.lit("null"):
		return nil
	}
	return st.syntax("a value")
}

// str_ decodes the JSON string at st.i into st.str and returns its span.
// The payload is known to be valid UTF-8; lone surrogate escapes become
// U+FFFD, as encoding/json does.
func (st *decState) str_() (span, error) {
	p := st.p
	i := st.i + 1
	start := int32(len(st.str))
	for {
		// Copy the run of plain bytes.
		j := i
		for j < len(p) && p[j] != '"' && p[j] != '\\' && p[j] >= 0x20 {
			j++
		}
		st.str = append(st.str, p[i:j]...)
		i = j
		if i >= len(p) {
			st.i = i
			return span{}, st.syntax("closing '\"'")
		}
		switch c := p[i]; {
		case c == '"':
			st.i = i + 1
			return span{start, int32(len(st.str))}, nil
		case c < 0x20:
			st.i = i
			return span{}, invalid("invalid JSON at offset " + strconv.Itoa(i) + ": control character in string")
		}
		// Escape.
		if i+1 >= len(p) {
			st.i = i
			return span{}, st.syntax("escape")
		}
		e := p[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			st.str = append(st.str, e)
		case 'b':
			st.str = append(st.str, '\b')
		case 'f':
			st.str = append(st.str, '\f')
		case 'n':
			st.str = append(st.str, '\n')
		case 'r':
			st.str = append(st.str, '\r')
		case 't':
			st.str = append(st.str, '\t')
		case 'u':
			r, ok := hex4(p, i)
			if !ok {
				st.i = i
				return span{}, st.syntax("4 hex digits")
			}
			i += 4
			if utf16IsHigh(r) {
				if r2, ok := hex4(p, i+2); ok && i+1 < len(p) && p[i] == '\\' && p[i+1] == 'u' && utf16IsLow(r2) {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					i += 6
				} else {
					r = utf8.RuneError
				}
			} else if utf16IsLow(r) {
				r = utf8.RuneError
			}
			st.str = utf8.AppendRune(st.str, r)
		default:
			st.i = i - 1
			return span{}, st.syntax("valid escape")
		}
	}
}

func utf16IsHigh(r rune) bool { return r >= 0xD800 && r < 0xDC00 }
func utf16IsLow(r rune) bool  { return r >= 0xDC00 && r < 0xE000 }

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
