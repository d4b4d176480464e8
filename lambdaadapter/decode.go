package lambdaadapter

import (
	"encoding/base64"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/internal/ascii"
)

// decoder is the pooled scratch of one DecodeResponse call. Its JSON
// reading is in jsonscan.go; this file knows the response document.
type decoder struct {
	p     []byte   // the payload
	i     int      // read offset in p
	strs  []byte   // decoded strings, back to back
	hdrs  []header // from the header field of the response's mode
	bin   []byte   // base64-decoded body
	multi bool     // multi-value mode: multiValueHeaders, not headers

	status int // 200..599 once read; 0: no statusCode field
	body   span
	b64    bool
}

// header is one response header, as spans of decoder.strs.
type header struct {
	name, value span
	shadowed    bool // a later header of the same name replaces it (set by checkHeaders)
}

// span is a decoded string: decoder.strs[off:end].
type span struct{ off, end int32 }

var decPool = sync.Pool{New: func() any { return new(decoder) }}

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
	d := decPool.Get().(*decoder)
	defer d.release()
	if err := d.parse(payload, multiValue); err != nil {
		return err
	}
	if err := d.checkHeaders(); err != nil {
		return err
	}
	body, err := d.bodyBytes()
	if err != nil {
		return err
	}

	// Valid: write it out.
	resp.SetStatusCode(d.status)
	resp.Header.SetNoDefaultContentType(true) // the ALB adds no Content-Type
	for _, h := range d.hdrs {
		name := d.bytes(h.name)
		if h.shadowed || hopByHop(name) {
			continue
		}
		resp.Header.AddBytesKV(name, d.bytes(h.value))
	}
	resp.SetBody(body)
	return nil
}

// release returns d to the pool unless a hostile payload grew it.
func (d *decoder) release() {
	d.p = nil
	if cap(d.strs) <= maxPooledScratch && cap(d.bin) <= maxPooledScratch && cap(d.hdrs) <= 4096 { // as releaseState
		decPool.Put(d)
	}
}

func (d *decoder) bytes(s span) []byte { return d.strs[s.off:s.end] }

// parse validates payload as the ALB response document.
func (d *decoder) parse(payload []byte, multi bool) error {
	*d = decoder{p: payload, multi: multi, strs: d.strs[:0], hdrs: d.hdrs[:0], bin: d.bin}
	if !utf8.Valid(payload) {
		return invalid("response is not valid UTF-8")
	}
	d.ws()
	if d.peek() != '{' {
		return invalid("response is not a JSON object")
	}
	if err := d.object(d.field); err != nil {
		return err
	}
	d.ws()
	if d.i < len(d.p) {
		return d.syntax("end of document")
	}
	if d.status == 0 {
		return invalid("statusCode: missing")
	}
	return nil
}

// field reads one member of the response object, with d.i at its key.
func (d *decoder) field() error {
	mark := len(d.strs)
	key, err := d.key()
	if err != nil {
		return err
	}
	name := fieldOf(d.bytes(key))
	d.strs = d.strs[:mark]
	switch name {
	case "statusCode":
		if err := d.statusCode(); err != nil {
			return err
		}
	case "statusDescription":
		if _, err := d.stringField(name); err != nil {
			return err
		}
		d.strs = d.strs[:mark] // not used on the wire (UNCONFIRMED)
	case "body":
		d.body, err = d.stringField(name)
		return err
	case "isBase64Encoded":
		switch {
		case d.lit("true"):
			d.b64 = true
		case d.lit("false"):
			d.b64 = false
		default:
			return d.typeErr(name, "a boolean")
		}
	case "headers", "multiValueHeaders":
		if (name == "multiValueHeaders") != d.multi {
			// The other mode's field is not read at all, not even for
			// null: see DecodeResponse.
			return d.skip(0)
		}
		return d.headers(name)
	default:
		return d.skip(0)
	}
	return nil
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

func (d *decoder) stringField(field string) (span, error) {
	if d.peek() != '"' {
		return span{}, d.typeErr(field, "a string")
	}
	return d.readString()
}

// statusCode reads a JSON integer in 200..599. A 1xx is refused: it is
// never a final response (RFC 9110 §15.2), and sent as one it would leave
// the client waiting for the real answer (100) or believing the
// connection switched protocols (101). What the ALB does with one is
// UNCONFIRMED; refusing it is the only answer that keeps the client's
// connection sane.
func (d *decoder) statusCode() error {
	c := d.peek()
	if c != '-' && (c < '0' || c > '9') {
		if c == '"' {
			start := d.i
			if _, err := d.readString(); err != nil {
				return err
			}
			return invalid("statusCode: must be an integer, got " + string(d.p[start:d.i]))
		}
		return d.typeErr("statusCode", "an integer")
	}
	start := d.i
	integer, err := d.number()
	if err != nil {
		return err
	}
	tok := d.p[start:d.i]
	if !integer {
		return invalid("statusCode: must be an integer, got " + string(tok))
	}
	v := 0
	for _, c := range tok {
		if c == '-' || v >= 1000 {
			return invalid("statusCode: " + string(tok) + " outside 200-599")
		}
		v = v*10 + int(c-'0')
	}
	if v < 200 || v > 599 {
		return invalid("statusCode: " + string(tok) + " outside 200-599")
	}
	d.status = v
	return nil
}

// headers reads the header field of the response's mode, "headers" (an
// object of strings) or "multiValueHeaders" (an object of arrays of
// strings), into d.hdrs in document order. A repeated field replaces the
// earlier one.
func (d *decoder) headers(field string) error {
	if d.peek() != '{' {
		return d.typeErr(field, "an object")
	}
	d.hdrs = d.hdrs[:0]
	return d.object(func() error {
		name, err := d.key()
		if err != nil {
			return err
		}
		value := func() error {
			if d.peek() != '"' {
				return d.headerTypeErr(field, name)
			}
			v, err := d.readString()
			if err != nil {
				return err
			}
			d.hdrs = append(d.hdrs, header{name: name, value: v})
			return nil
		}
		if !d.multi {
			return value()
		}
		if d.peek() != '[' {
			return d.headerTypeErr(field, name)
		}
		return d.array(value)
	})
}

func (d *decoder) headerTypeErr(field string, name span) error {
	want := "a string"
	if d.multi {
		want = "an array of strings"
	}
	return d.typeErr(field+": "+strconv.Quote(string(d.bytes(name))), want)
}

// checkHeaders checks every header read (shadowed ones too), marks the
// shadowed ones and checks the size of those that will be sent.
func (d *decoder) checkHeaders() error {
	// In a single-value headers object, as in any JSON object, the last
	// of repeated keys wins. A linear scan per header is fine for real
	// responses; a map bounds hostile ones (1 MB of tiny headers) to
	// linear time.
	var last map[string]int
	if !d.multi && len(d.hdrs) > 64 {
		last = make(map[string]int, len(d.hdrs))
		for i, h := range d.hdrs {
			last[string(d.bytes(h.name))] = i
		}
	}
	size := 0
	for i := range d.hdrs {
		h := &d.hdrs[i]
		name, value := d.bytes(h.name), d.bytes(h.value)
		if err := checkHeader(name, value); err != nil {
			return err
		}
		switch {
		case d.multi:
		case last != nil:
			h.shadowed = last[string(name)] != i
		default:
			h.shadowed = d.nameLater(name, i+1)
		}
		if !h.shadowed {
			size += len(name) + len(value) + 4
		}
	}
	if size > MaxResponseHeaderSize {
		return invalid("headers: " + strconv.Itoa(size) + " bytes, over the 32 KB response header limit")
	}
	return nil
}

// nameLater reports whether a header from d.hdrs[from] on has this name.
func (d *decoder) nameLater(name []byte, from int) bool {
	for _, h := range d.hdrs[from:] {
		if string(d.bytes(h.name)) == string(name) {
			return true
		}
	}
	return false
}

// checkHeader rejects what could break the response framing: a name that
// is not an RFC 9110 token, a value with CR, LF or NUL.
func checkHeader(name, value []byte) error {
	if len(name) == 0 {
		return invalid("headers: empty header name")
	}
	for _, c := range name {
		if !ascii.IsTokenChar(c) {
			return invalid("headers: invalid character " + strconv.QuoteRune(rune(c)) + " in header name " + strconv.Quote(string(name)))
		}
	}
	for _, c := range value {
		if c == '\r' || c == '\n' || c == 0 {
			return invalid("headers: " + strconv.Quote(string(name)) + ": CR, LF or NUL in value")
		}
	}
	return nil
}

// hopByHop reports whether the ALB ignores this header from the function:
// the hop-by-hop ones and Content-Length, which it computes ("Respond to
// the load balancer", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html#respond-to-load-balancer).
func hopByHop(name []byte) bool {
	if len(name) >= 6 && ascii.EqualFold(name[:6], "proxy-") {
		return true
	}
	for _, h := range hopByHopNames {
		if ascii.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// hopByHopNames lives outside hopByHop so that the loop does not build
// the list on every call.
var hopByHopNames = []string{"connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "content-length"}

// bodyBytes is the body to send: the body string, or with isBase64Encoded
// its standard padded base64 decoding (no line breaks).
func (d *decoder) bodyBytes() ([]byte, error) {
	raw := d.bytes(d.body)
	if !d.b64 {
		return raw, nil
	}
	for _, c := range raw {
		if c == '\r' || c == '\n' {
			return nil, invalid("body: base64 with line breaks")
		}
	}
	var err error
	d.bin, err = base64.StdEncoding.AppendDecode(d.bin[:0], raw)
	if err != nil {
		return nil, invalid("body: invalid base64: " + err.Error())
	}
	return d.bin, nil
}
