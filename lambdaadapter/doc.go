// Package lambdaadapter converts between HTTP and the AWS Application Load
// Balancer's Lambda event and response documents, byte for byte as the ALB
// does. The contract is AWS's "Lambda functions as targets"
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html),
// the X-Forwarded-* headers
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html), request tracing
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-request-tracing.html) and, where
// those are silent, events captured from real ALBs (aws-lambda-go's
// events/testdata, https://github.com/aws/aws-lambda-go/tree/main/events);
// what neither settles is marked UNCONFIRMED below.
//
// It is a pure codec: no I/O, no goroutines, no logging.
//
// # Concurrency
//
// An Encoder is safe for concurrent use as long as its Now and Rand are
// (the defaults are). AppendEvent, AppendHealthCheckEvent and
// DecodeResponse may run concurrently on different requests and responses.
// Nothing from the *fasthttp.Request, the payload or the Response is
// retained after a call returns: the event is appended to the caller's
// buffer, and DecodeResponse copies into the Response. Per-call scratch
// space is pooled (sync.Pool), so both directions are allocation-free in
// steady state when the caller reuses its buffers.
//
// # Request → event
//
//   - path is the raw request-target up to '?' (percent-encoding kept, no
//     dot-segment or slash collapsing: UNCONFIRMED); an absolute-form target
//     loses its scheme and authority; any #fragment is dropped.
//   - The query is split on '&' without any decoding ('+' stays '+');
//     empty segments are skipped; "k=" and a bare "k" give "" (the latter
//     UNCONFIRMED); "=v" gives the key "" (UNCONFIRMED).
//   - Headers are read from fasthttp's raw header block, so every header
//     the client sent is there with its raw value, repeated names grouped
//     with their values in client order (fasthttp's All() reorders
//     Host/Content-Type/User-Agent and rebuilds Cookie). Names are lower-cased. A request built in code falls back to
//     All(). obs-fold continuation lines are joined with one space.
//   - Single-value mode: last value of a repeated header or query key wins.
//     Multi-value mode: every value, in client order. No query gives {} in
//     both modes (UNCONFIRMED for multi-value).
//   - Object keys are emitted sorted bytewise: the order of every AWS sample
//     and live capture (and of encoding/json). Top-level fields follow the
//     AWS example order: requestContext, httpMethod, path, the query pair,
//     the header pair, body, isBase64Encoded.
//   - JSON escaping: only '"', '\' and control characters (\b \t \n \f \r,
//     otherwise \u00XX); '/', '<', '>', '&', U+2028/2029 and all valid UTF-8
//     stay raw, as in the live captures. Invalid UTF-8 bytes become \ufffd
//     one by one, so the event is always valid JSON (the ALB refuses such
//     requests with LambdaBadRequest instead: the balancer checks
//     ValidUTF8 first, so the repair is a fallback). Keys that collide
//     after that repair are merged.
//   - Body: "" and isBase64Encoded false when empty; base64 (standard,
//     padded) when Content-Encoding is present or the media type is not
//     text/*, application/json, application/javascript or application/xml,
//     compared case-insensitively without parameters (+json suffix types are
//     base64: UNCONFIRMED).
//   - Headers the balancer sets: x-forwarded-for (incoming values joined
//     with ", ", then the client IP; IPv4-mapped addresses unmapped),
//     x-forwarded-proto and x-forwarded-port (a client's values are
//     overwritten: UNCONFIRMED), x-amzn-trace-id: a new
//     "Root=1-{epoch hex8}-{hex24}", "Self=…;" put before an incoming Root,
//     an incoming Self updated in place, "Root=…;" put before a value with
//     neither (UNCONFIRMED), and a fresh Root only when the raw request
//     headers exceed 7 KB. The value is available through AppendEventTrace.
//     The host header is the client's (no :port appended: UNCONFIRMED);
//     x-imforwards is not emulated.
//
// Health checks (AppendHealthCheckEvent) use the documented event; the
// configured path is used verbatim and the multi-value variant uses the
// multi-value fields (both UNCONFIRMED).
//
// # Response → HTTP
//
// DecodeResponse is a hand-written, allocation-free JSON parser that checks
// everything before writing anything to the Response:
//
//   - payload over MaxResponseSize (2^20 bytes): ReasonResponseTooLarge;
//   - not valid UTF-8, not a JSON object, trailing data, JSON syntax
//     errors: ReasonInvalidResponse;
//   - statusCode required, a JSON integer literal (no fraction or exponent)
//     in 200–599 (range UNCONFIRMED; a 1xx is refused because it cannot be
//     a final response: 100 would leave the client waiting, 101 would tell
//     it the connection changed protocol);
//   - statusDescription, body: strings; headers: string → string;
//     multiValueHeaders: string → [string]; isBase64Encoded: boolean.
//     null is invalid for every one of them, except for the header field
//     of the other mode: that one is skipped unread (any JSON value,
//     null included), because aws-lambda-go's ALBTargetGroupResponse
//     always sends it as null. Unknown keys are ignored; a repeated key
//     keeps its last value (also inside headers).
//   - isBase64Encoded: standard padded base64; CR/LF (MIME line wrapping)
//     or any other invalid input is invalid.
//   - header names must be RFC 9110 tokens, values must not hold CR, LF or
//     NUL; more than MaxResponseHeaderSize (32 KB) of headers is invalid.
//   - Connection, Keep-Alive, Transfer-Encoding, Upgrade, TE, Trailer,
//     Proxy-* and Content-Length from the function are ignored; fasthttp
//     computes Content-Length. No default Content-Type is added.
//     statusDescription is validated but not used (the reason phrase is the
//     standard one: UNCONFIRMED). Header names are written in fasthttp's
//     canonical case unless the server disables normalising (UNCONFIRMED).
//
// # Performance
//
// Both directions are allocation-free in steady state: allocation_test.go
// (!race) pins 0 allocs/op for encode and decode, and the benchmarks of
// *_timing_test.go (go test -run '^$' -bench . -benchmem ./lambdaadapter)
// time them. Measured figures, with their command and machine, are in the
// README's Performance section.
package lambdaadapter
