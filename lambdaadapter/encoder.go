package lambdaadapter

import (
	"encoding/base64"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"
)

// Conn holds the connection facts the event needs, copied out of the
// RequestCtx by the caller.
type Conn struct {
	ClientIP       netip.Addr // TCP peer of the balancer; appended to X-Forwarded-For
	ClientPort     int        // TCP peer port (kept for xff_client_port; not used yet)
	ListenerPort   int        // becomes X-Forwarded-Port
	Scheme         string     // "http" or "https"; becomes X-Forwarded-Proto ("" means "http")
	TargetGroupARN string     // requestContext.elb.targetGroupArn
	MultiValue     bool       // lambda.multi_value_headers.enabled
}

// Encoder encodes ALB Lambda events. Its zero value is usable: the real
// clock and math/rand/v2's runtime-seeded (OS entropy) ChaCha8 generator.
// Now and Rand are injectable for golden tests. An Encoder is safe for
// concurrent use as long as Now and Rand are.
type Encoder struct {
	Now  func() time.Time
	Rand func() uint64
}

// kv is one header or query parameter of the request being encoded. Both
// slices point into the request or the encoder state and live only for the
// duration of one AppendEvent call.
type kv struct {
	k, v []byte
}

// encState is the per-call scratch space, pooled so steady-state encoding
// does not allocate.
type encState struct {
	hdrs   []kv
	query  []kv
	names  []byte  // lower-cased header names, back to back
	spans  []int32 // per header: start of its name in names (end = next start)
	xff    []byte  // incoming X-Forwarded-For values joined with ", ", then our IP
	extra  []byte  // values of the headers the balancer sets
	fold   []byte  // joined obs-fold values
	san    []byte  // keys with invalid UTF-8, repaired
	trace  []byte  // trace id scratch for AppendEvent
	inTr   []byte  // last incoming X-Amzn-Trace-Id
	ctype  []byte  // last Content-Type
	hasXFF bool
	hasTr  bool
	hasCE  bool
}

// maxPooledScratch caps the scratch buffers kept in the pools: a buffer
// that grew past it for one huge request is dropped rather than kept.
const maxPooledScratch = 2 << 20

var statePool = sync.Pool{New: func() any { return new(encState) }}

func acquireState() *encState { return statePool.Get().(*encState) }

func releaseState(st *encState) {
	if cap(st.names) > maxPooledScratch || cap(st.hdrs) > 4096 || cap(st.query) > 4096 ||
		cap(st.xff) > maxPooledScratch || cap(st.fold) > maxPooledScratch || cap(st.san) > maxPooledScratch || cap(st.inTr) > maxPooledScratch {
		return // drop oversized scratch instead of pinning it
	}
	clear(st.hdrs) // do not keep request memory reachable from the pool
	clear(st.query)
	st.hdrs, st.query = st.hdrs[:0], st.query[:0]
	st.ctype = nil
	statePool.Put(st)
}

// AppendEvent appends the ALB Lambda event for req to dst and returns the
// extended buffer. The event is built from the request as read from the
// wire (raw header order and bytes, raw request URI), so the caller must not
// have rewritten req's headers; it never retains req or anything from it.
func (e *Encoder) AppendEvent(dst []byte, req *fasthttp.Request, c *Conn) []byte {
	st := acquireState()
	dst, st.trace = e.appendEvent(dst, st.trace[:0], req, c, st)
	releaseState(st)
	return dst
}

// AppendEventTrace is AppendEvent that also appends to trace the
// X-Amzn-Trace-Id value it put into the event (unescaped), so the balancer
// can write it to the access log. Both returned slices are owned by the
// caller.
func (e *Encoder) AppendEventTrace(dst, trace []byte, req *fasthttp.Request, c *Conn) (event, traceID []byte) {
	st := acquireState()
	event, traceID = e.appendEvent(dst, trace, req, c, st)
	releaseState(st)
	return event, traceID
}

func (e *Encoder) appendEvent(dst, trace []byte, req *fasthttp.Request, c *Conn, st *encState) ([]byte, []byte) {
	st.collectHeaders(req)
	uri := req.Header.RequestURI()
	path, query := SplitRequestURI(uri)
	st.query = appendQuery(st.query[:0], query)

	// The headers the balancer sets (X-Forwarded-*, X-Amzn-Trace-Id: "Receive
	// events from the load balancer", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html#receive-event-from-load-balancer):
	// built into st.extra first,
	// sliced once st.extra no longer grows.
	traceStart := len(trace)
	trace = e.appendTrace(trace, st.inTr, st.hasTr, headerSize(req))
	st.extra = append(st.extra[:0], trace[traceStart:]...)
	nTrace := len(st.extra)
	if c.ClientIP.IsValid() {
		if st.hasXFF {
			st.xff = append(st.xff, ", "...)
		}
		st.xff = c.ClientIP.Unmap().AppendTo(st.xff)
		st.hasXFF = true
	}
	st.extra = strconv.AppendInt(st.extra, int64(c.ListenerPort), 10)
	nPort := len(st.extra)
	scheme := c.Scheme
	if scheme == "" {
		scheme = "http"
	}
	st.extra = append(st.extra, scheme...)
	st.hdrs = append(st.hdrs,
		kv{hdrTraceID, st.extra[:nTrace]},
		kv{hdrForwardedPort, st.extra[nTrace:nPort]},
		kv{hdrForwardedProto, st.extra[nPort:]},
	)
	if st.hasXFF {
		st.hdrs = append(st.hdrs, kv{hdrForwardedFor, st.xff})
	}

	dst = append(dst, `{"requestContext":{"elb":{"targetGroupArn":`...)
	dst = appendJSONString(dst, c.TargetGroupARN)
	dst = append(dst, `}},"httpMethod":`...)
	dst = appendJSONString(dst, req.Header.Method())
	dst = append(dst, `,"path":`...)
	dst = appendJSONString(dst, path)
	st.san = st.san[:0]
	if hasHighBit(st.names) {
		st.repairKeys(st.hdrs)
	}
	st.repairKeys(st.query)
	if c.MultiValue {
		dst = append(dst, `,"multiValueQueryStringParameters":`...)
		dst = appendMap(dst, st.query, true)
		dst = append(dst, `,"multiValueHeaders":`...)
		dst = appendMap(dst, st.hdrs, true)
	} else {
		dst = append(dst, `,"queryStringParameters":`...)
		dst = appendMap(dst, st.query, false)
		dst = append(dst, `,"headers":`...)
		dst = appendMap(dst, st.hdrs, false)
	}
	dst = append(dst, `,"body":`...)
	body := req.Body()
	switch {
	case len(body) == 0:
		dst = append(dst, `"","isBase64Encoded":false}`...)
	case st.hasCE || !isTextType(st.ctype):
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, body)
		dst = append(dst, `","isBase64Encoded":true}`...)
	default:
		dst = appendJSONString(dst, body)
		dst = append(dst, `,"isBase64Encoded":false}`...)
	}
	return dst, trace
}

var (
	hdrTraceID        = []byte("x-amzn-trace-id")
	hdrForwardedFor   = []byte("x-forwarded-for")
	hdrForwardedPort  = []byte("x-forwarded-port")
	hdrForwardedProto = []byte("x-forwarded-proto")
)

// appendMap appends a JSON object of the entries, keys sorted bytewise
// (the order of every AWS sample and capture, and encoding/json's). In
// single-value mode the last value of a repeated key wins; in multi-value
// mode every value is listed in client order. It sorts ents in place.
func appendMap(dst []byte, ents []kv, multi bool) []byte {
	sortKV(ents)
	dst = append(dst, '{')
	for i := 0; i < len(ents); {
		j := i + 1
		for j < len(ents) && string(ents[j].k) == string(ents[i].k) {
			j++
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, ents[i].k)
		dst = append(dst, ':')
		if multi {
			dst = append(dst, '[')
			for k := i; k < j; k++ {
				if k > i {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, ents[k].v)
			}
			dst = append(dst, ']')
		} else {
			dst = appendJSONString(dst, ents[j-1].v)
		}
		i = j
	}
	return append(dst, '}')
}

// repairKeys replaces every key that is not valid UTF-8 with the key the
// event will show (each invalid byte as U+FFFD), so that two keys which
// differ only in invalid bytes are grouped as one JSON key, not repeated.
func (st *encState) repairKeys(ents []kv) {
	need := 0
	for _, e := range ents {
		if hasHighBit(e.k) && !utf8.Valid(e.k) {
			need += 3 * len(e.k)
		}
	}
	if need == 0 {
		return
	}
	if cap(st.san)-len(st.san) < need { // sized once: st.san must not move
		st.san = make([]byte, 0, len(st.san)+need)
	}
	for i, e := range ents {
		if utf8.Valid(e.k) {
			continue
		}
		start := len(st.san)
		for j := 0; j < len(e.k); {
			if e.k[j] < utf8.RuneSelf {
				st.san = append(st.san, e.k[j])
				j++
			} else if n := utf8SeqLen(e.k, j); n > 0 {
				st.san = append(st.san, e.k[j:j+n]...)
				j += n
			} else {
				st.san = append(st.san, "\uFFFD"...)
				j++
			}
		}
		ents[i].k = st.san[start:]
	}
}

// hasHighBit reports whether b holds a non-ASCII byte.
func hasHighBit(b []byte) bool {
	for len(b) >= 8 {
		x := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if x&msb != 0 {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// sortKV sorts by key, stable so repeated keys keep client order.
func sortKV(ents []kv) {
	if len(ents) <= 24 { // insertion sort: typical requests, no call overhead
		for i := 1; i < len(ents); i++ {
			for j := i; j > 0 && string(ents[j].k) < string(ents[j-1].k); j-- {
				ents[j], ents[j-1] = ents[j-1], ents[j]
			}
		}
		return
	}
	slices.SortStableFunc(ents, cmpKV)
}

func cmpKV(a, b kv) int {
	switch {
	case string(a.k) < string(b.k):
		return -1
	case string(a.k) > string(b.k):
		return 1
	}
	return 0
}

// randUint64 is the default random source.
func randUint64() uint64 { return rand.Uint64() }
