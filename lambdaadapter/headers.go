package lambdaadapter

import (
	"bytes"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/internal/ascii"
)

// collectHeaders fills st.hdrs with the client's headers in client order,
// names lower-cased, minus the four headers the balancer sets itself
// (X-Forwarded-For is remembered to be appended to, the last
// X-Amzn-Trace-Id to be amended; a client's X-Forwarded-Proto/Port are
// overwritten: UNCONFIRMED, https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html
// does not say).
//
// It reads the raw header block fasthttp set aside while parsing, because
// fasthttp's All() reorders Host, Content-Type, User-Agent and re-serialises
// cookies, and its AllInOrder rewrites the raw block in place when it joins
// folded lines. A request built in code (no raw block) falls back to All().
func (st *encState) collectHeaders(req *fasthttp.Request) {
	st.names, st.spans, st.hdrs = st.names[:0], st.spans[:0], st.hdrs[:0]
	st.xff, st.inTr, st.ctype = st.xff[:0], st.inTr[:0], nil
	st.hasXFF, st.hasTr, st.hasCE = false, false, false

	raw := req.Header.RawHeaders()
	if len(raw) == 0 {
		for k, v := range req.Header.All() {
			st.addHeader(k, v)
		}
	}
	// Joined obs-fold values go to st.fold, sized once so it never moves
	// (a joined value is never longer than the raw block).
	st.fold = st.fold[:0]
	rawLen := len(raw)
	for len(raw) > 0 {
		var line []byte
		line, raw = nextLine(raw)
		line = trimRight(line)
		if len(line) == 0 {
			break // end of the header block
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue // fasthttp tolerated it; it is not a header
		}
		name, val := trimRight(line[:colon]), trimLeft(line[colon+1:])
		if len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t') {
			// obs-fold: join continuation lines with one space, as
			// fasthttp does (UNCONFIRMED for the ALB).
			if cap(st.fold) < rawLen {
				st.fold = make([]byte, 0, rawLen)
			}
			start := len(st.fold)
			st.fold = append(st.fold, val...)
			for len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t') {
				var cont []byte
				cont, raw = nextLine(raw)
				if cont = trimLeft(trimRight(cont)); len(cont) > 0 {
					if len(st.fold) > start {
						st.fold = append(st.fold, ' ')
					}
					st.fold = append(st.fold, cont...)
				}
			}
			val = st.fold[start:]
		}
		st.addHeader(name, val)
	}
	for i := range st.hdrs {
		end := len(st.names)
		if i+1 < len(st.spans) {
			end = int(st.spans[i+1])
		}
		st.hdrs[i].k = st.names[st.spans[i]:end]
	}
}

func (st *encState) addHeader(k, v []byte) {
	start := len(st.names)
	st.names = ascii.AppendLower(st.names, k)
	switch string(st.names[start:]) {
	case "x-forwarded-for":
		if len(v) == 0 { // an empty incoming value adds nothing (UNCONFIRMED)
			st.names = st.names[:start]
			return
		}
		if st.hasXFF {
			st.xff = append(st.xff, ", "...)
		}
		st.xff = append(st.xff, v...)
		st.hasXFF = true
		st.names = st.names[:start]
		return
	case "x-forwarded-proto", "x-forwarded-port":
		st.names = st.names[:start]
		return
	case "x-amzn-trace-id":
		st.inTr = append(st.inTr[:0], v...)
		st.hasTr = true
		st.names = st.names[:start]
		return
	case "content-type":
		st.ctype = v
	case "content-encoding":
		st.hasCE = true
	}
	st.spans = append(st.spans, int32(start))
	st.hdrs = append(st.hdrs, kv{v: v})
}

// headerSize approximates the request header size the ALB measures for its
// 7 KB trace-id rule: the raw header block, or the re-serialised headers.
func headerSize(req *fasthttp.Request) int {
	if raw := req.Header.RawHeaders(); len(raw) > 0 {
		return len(raw)
	}
	n := 0
	for k, v := range req.Header.All() {
		n += len(k) + len(v) + 4
	}
	return n
}

func nextLine(raw []byte) (line, rest []byte) {
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		return raw[:i], raw[i+1:]
	}
	return raw, nil
}

func hasObsFold(raw []byte) bool {
	return bytes.Contains(raw, []byte("\n ")) || bytes.Contains(raw, []byte("\n\t"))
}

func trimRight(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case ' ', '\t', '\r':
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}

func trimLeft(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// isTextType reports whether a body of this Content-Type reaches the
// function as-is: text/*, application/json, application/javascript or
// application/xml ("Receive events from the load balancer",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html#receive-event-from-load-balancer). The media type is compared
// case-insensitively and parameters are ignored; structured-syntax
// suffixes such as application/vnd.api+json are not text (UNCONFIRMED).
func isTextType(ct []byte) bool {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = trimLeft(trimRight(ct))
	if len(ct) > len("text/") && bytes.EqualFold(ct[:len("text/")], []byte("text/")) {
		return true
	}
	return bytes.EqualFold(ct, []byte("application/json")) ||
		bytes.EqualFold(ct, []byte("application/javascript")) ||
		bytes.EqualFold(ct, []byte("application/xml"))
}
