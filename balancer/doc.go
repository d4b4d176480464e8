// Package balancer is albedo's Application Load Balancer front end: one
// fasthttp server per listener, rules compiled into matchers and evaluated
// in priority order, the forward / weighted-forward / redirect /
// fixed-response actions, and the single mapping of failures to the
// statuses an ALB gives.
//
// # Concurrency
//
// New compiles everything; afterwards a Balancer is immutable except for
// its lifecycle (Start, Shutdown, Serve), and all methods are safe for
// concurrent use. Handlers run on fasthttp's worker goroutines and call
// Forwarder.Forward synchronously. Nothing retains a *fasthttp.RequestCtx
// or any byte slice obtained from it past the handler. Every invocation
// gets a context derived from the balancer's base context, which is
// cancelled only when a graceful shutdown runs out of time. A connection
// holds its 64 KB read buffer only while a request is being read
// (fasthttp's ReduceMemoryUsage), so an idle or silent connection costs
// the server a socket, not 64 KB.
//
// # Request path
//
//  1. A top-level recover turns a panic into a logged 500; the
//     ErrorHandler, the ExpectHandler and the access-log write recover the
//     same way, since fasthttp recovers nothing.
//  2. Before any rule runs: an HTTP major version other than 1 gets 505, a
//     request line over 16 K 414, a header line over 16 K 400 (alb.md
//     §2.5; these three also close the connection), TRACE 405, and an
//     X-Forwarded-For holding more than 30 addresses 463. A
//     Transfer-Encoding other than chunked (or identity) is refused by
//     fasthttp while reading and answered 501 by the error handler.
//  3. The first rule (lowest priority number) whose conditions all hold
//     wins; the default action is the last, condition-less rule.
//  4. Forward only: "Upgrade: websocket" gives 400
//     (LambdaWebsocketNotSupported), a body over
//     lambdaadapter.MaxRequestBodySize 413 (LambdaRequestTooLarge), and a
//     request target, header or text body that is not UTF-8 502
//     (LambdaBadRequest; status UNCONFIRMED), all without invoking
//     anything. The server reads bodies up to the
//     limit + 1 so that this check sees the over-size; anything larger is
//     refused by fasthttp and answered 413 by the server's error handler.
//     A request with "Expect: 100-continue" announcing an over-size body
//     for a forward rule gets the 413 (page and access-log line included)
//     instead of 100, so the client never sends a body the server would
//     have to cut off.
//  5. Failures from Forward go through statusFor (status.go), the only
//     place a target failure becomes a status.
//
// Every response carries "Server: albedo", function responses included
// (ALB sets its own Server header the same way). Errors albedo generates
// carry an ALB-style HTML page (nginx layout with CRLF line ends, as ALB
// pages are observed; exact bytes beyond the 502 title UNCONFIRMED) with
// Content-Type text/html.
//
// # Conditions (alb.md §6.2)
//
// Matching never allocates and never uses regexp: patterns are compiled
// into config.Glob values, where '*' is any run of bytes and '?' exactly
// one byte, and a pattern covers the whole string. Values inside a condition are OR'ed, the
// conditions of a rule AND'ed.
//
//   - host-header: the Host header, case-insensitive, with any ":port"
//     removed before matching (UNCONFIRMED; a pattern never contains a port
//     since ':' is not an allowed character).
//   - path-pattern: the path exactly as the client sent it (percent-encoding
//     kept, no dot-segment cleaning, no query), case-sensitive
//     (UNCONFIRMED raw vs decoded; raw matches what the event carries).
//   - http-header: the named header, name and value case-insensitive; every
//     occurrence of a repeated header is tried in order until one matches.
//   - http-request-method: exact, case-sensitive.
//   - query-string: each '&'-separated pair of the raw query (not
//     percent-decoded, '+' not a space; UNCONFIRMED), key and value
//     case-insensitive; a pattern without a key matches any key; "\*" and
//     "\?" match a literal '*' and '?'. A pair without '=' is a key with an
//     empty value.
//   - source-ip: the TCP peer address (never X-Forwarded-For) against the
//     CIDRs; IPv4-mapped IPv6 peers are compared as IPv4.
//
// # Actions (alb.md §6.3)
//
// Weighted forward picks a group with probability weight/sum; a weight-0
// group is never picked, and if every weight is 0 the request gets 503
// (UNCONFIRMED). With stickiness, each forwarded response (re)issues
// AWSALBTG and AWSALBTGCORS (SameSite=None; Secure), Path=/, expiring
// duration seconds from now (a sliding window). The value names the group
// and its expiry and is signed with HMAC-SHA256 (Options.StickinessKey,
// random per process when nil) over the issuing action's identity, so a
// cookie that is forged, expired, issued by another rule, or names a group
// that is not (or no longer) weighted above 0 is ignored and a fresh
// weighted pick is made. ALB encrypts its cookie; a signature gives the
// same guarantee that matters here (no forging) and keeps it debuggable.
//
// Redirect builds protocol://host:port/path?query from the templates
// (#{protocol} #{host} #{port} #{path} #{query}; #{path} without its
// leading '/'), lower-cases the protocol, always writes the port
// explicitly (as ALB does, "https://example.com:443/"), percent-encodes
// the literal text of the path (it is written unencoded; #{path} is the
// raw request path and is kept), and leaves out the '?' when the query
// expands to nothing (UNCONFIRMED). A query configured as "" drops the
// request's query. The answer is 301 or 302 with an ALB-style HTML page.
//
// Fixed response answers the configured status and body with Content-Type
// "<content_type>; charset=utf-8", text/plain when unset (UNCONFIRMED).
//
// # Statuses
//
// See statusFor. Choices for UNCONFIRMED rows of alb.md §2.6: access denied
// and function not found are 502; context.DeadlineExceeded (the
// balancer's own deadline, not the function's timeout) is 504
// LambdaConnectionTimeout; an event over Lambda's invoke payload limit
// (a body within 1 MB that JSON escaping grew past 6 MB) is 413
// LambdaRequestTooLarge; any error that fits no row is 502
// LambdaUnhandledException. Requests fasthttp cannot read get 413 (body
// too large), 501 (unsupported Transfer-Encoding), 408 (read timeout) or
// 400 (malformed, headers over 64 KB).
//
// # Access log
//
// With Options.AccessLog set, every request, including those rejected
// before a rule ran, gets one line with the 30 fields of alb.md §7.2,
// formatted without allocating into pooled buffers and written through a
// 64 KB buffer flushed every second and at Shutdown. Approximations:
// request_processing_time starts when the handler is called (the body is
// already read); sent_bytes counts the response head as fasthttp would
// serialise it plus the body; trace_id is the client's X-Amzn-Trace-Id, as
// the id albedo generates is made inside the target group; ssl_cipher uses
// Go's (IANA) suite names; conn_trace_id is "TID_" and the connection
// number in hex (format UNCONFIRMED). Quoted fields escape '"', '\' and
// non-printable bytes as \xNN.
//
// HTTPS listeners terminate TLS with crypto/tls; the certificate is chosen
// by SNI among the listener's certificates, the first being the default.
package balancer
