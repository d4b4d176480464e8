package lambdaadapter

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fasthttp"
)

// refResponse is what referenceDecode reads from a response payload.
type refResponse struct {
	status  int
	headers [][2]string // written to the client, in order
	body    []byte
	base64  bool
}

// referenceDecode is DecodeResponse's contract (doc.go, "Response → HTTP")
// written with encoding/json, slowly and plainly, for FuzzDecode to compare
// against. ok is false where the ALB answers 502; tooLarge says why.
func referenceDecode(payload []byte, multi bool) (r refResponse, ok, tooLarge bool) {
	if len(payload) > MaxResponseSize {
		return r, false, true
	}
	// encoding/json repairs invalid UTF-8 instead of refusing it.
	if !utf8.Valid(payload) || !json.Valid(payload) {
		return r, false, false
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return r, false, false
	}
	// Each occurrence of a repeated key is type-checked; the last one wins.
	var hdrs []refHeader
	var body string
	hasStatus := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return r, false, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return r, false, false
		}
		good := true
		switch key := tok.(string); {
		case key == "statusCode":
			r.status, good = refStatus(raw)
			hasStatus = true
		case key == "statusDescription":
			_, good = refString(raw)
		case key == "body":
			body, good = refString(raw)
		case key == "isBase64Encoded":
			good = string(raw) == "true" || string(raw) == "false"
			r.base64 = string(raw) == "true"
		case key == "headers" && !multi:
			hdrs, good = refHeaders(raw, false)
		case key == "multiValueHeaders" && multi:
			hdrs, good = refHeaders(raw, true)
		default: // unknown, or the other mode's headers: skipped unread
			good = refDepth(raw) <= maxNesting
		}
		if !good {
			return r, false, false
		}
	}
	if !hasStatus {
		return r, false, false
	}
	last := map[string]int{} // in single-value mode a repeated name keeps its last value
	for i, h := range hdrs {
		if h.name == "" || strings.ContainsFunc(h.name, func(c rune) bool { return !refTokenChar(c) }) ||
			strings.ContainsAny(h.value, "\r\n\x00") {
			return r, false, false
		}
		last[h.name] = i
	}
	size := 0
	for i, h := range hdrs {
		if !multi && last[h.name] != i {
			continue
		}
		size += len(h.name) + len(": \r\n") + len(h.value)
		if !refHopByHop(h.name) {
			r.headers = append(r.headers, [2]string{h.name, h.value})
		}
	}
	if size > MaxResponseHeaderSize {
		return r, false, false
	}
	r.body = []byte(body)
	if r.base64 {
		b, err := base64.StdEncoding.DecodeString(body)
		// StdEncoding skips CR and LF; the ALB contract refuses them.
		if err != nil || strings.ContainsAny(body, "\r\n") {
			return r, false, false
		}
		r.body = b
	}
	return r, true, false
}

type refHeader struct{ name, value string }

// refStatus: a JSON integer literal (no fraction or exponent) in 200..599.
func refStatus(raw json.RawMessage) (int, bool) {
	if len(raw) == 0 || raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') || bytes.ContainsAny(raw, ".eE") {
		return 0, false
	}
	v, err := strconv.Atoi(string(raw))
	return v, err == nil && v >= 200 && v <= 599
}

// refString: a JSON string, not null.
func refString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// refHeaders: an object of strings, or with multi of arrays of strings;
// every member in document order, repeated names included.
func refHeaders(raw json.RawMessage, multi bool) ([]refHeader, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.Token() // '{'
	hdrs := []refHeader{}
	for dec.More() {
		tok, _ := dec.Token()
		name := tok.(string)
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return nil, false
		}
		if !multi {
			s, ok := refString(v)
			if !ok {
				return nil, false
			}
			hdrs = append(hdrs, refHeader{name: name, value: s})
			continue
		}
		var vals []json.RawMessage
		if len(v) == 0 || v[0] != '[' || json.Unmarshal(v, &vals) != nil {
			return nil, false
		}
		for _, e := range vals {
			s, ok := refString(e)
			if !ok {
				return nil, false
			}
			hdrs = append(hdrs, refHeader{name: name, value: s})
		}
	}
	return hdrs, true
}

// refDepth is how many arrays and objects enclose raw's deepest value.
func refDepth(raw json.RawMessage) int {
	depth, deepest := 0, 0
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
			deepest = max(deepest, depth)
		case inString:
		case c == '[' || c == '{':
			deepest = max(deepest, depth)
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ':':
		default: // a number or a literal
			deepest = max(deepest, depth)
		}
	}
	return deepest
}

// refTokenChar is RFC 9110's tchar, spelled out.
func refTokenChar(c rune) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.ContainsRune("!#$%&'*+-.^_`|~", c)
}

// refHopByHop: the headers the ALB does not pass on from a function.
func refHopByHop(name string) bool {
	name = strings.ToLower(name)
	switch name {
	case "connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "content-length":
		return true
	}
	return strings.HasPrefix(name, "proxy-")
}

// write puts r into resp the way a balancer answers the client.
func (r *refResponse) write(resp *fasthttp.Response) {
	resp.SetStatusCode(r.status)
	resp.Header.SetNoDefaultContentType(true)
	for _, h := range r.headers {
		resp.Header.Add(h[0], h[1])
	}
	resp.SetBody(r.body)
}
