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
// cancelled only when a graceful shutdown runs out of time.
//
// # Memory
//
// Memory follows the bytes that arrive, never a declared Content-Length:
// bodies are streamed (fasthttp's StreamRequestBody, 1 byte prefetched)
// and only a forward reads one, with intake.Body, into a buffer that
// doubles as bytes arrive, each growth reserved from Options.BodyBudget,
// the process-wide body_memory_budget shared with the admin API, and held
// until the request is answered. A connection that never sent a request
// holds no read buffer (fasthttp's ReduceMemoryUsage); from its first
// request until it closes it holds its 64 KB one (fasthttp keeps it with
// streamed bodies), so an idle keep-alive connection costs 64 KB until the
// 60 s idle timeout, as much as a connection sending its head slowly
// always could. A request that declares a body and sends none of it is a
// slow client: answered 408 at the read timeout.
//
// # Lifecycle
//
// Listen binds every listener's socket without serving, so that a caller
// (albedo serve) can bind all of its sockets before it builds functions or
// opens state, and fail fast, naming the listener (*ListenError), when one
// is busy; New then takes the sockets as Options.Listeners. Without them,
// Start binds. Start serves each socket in its own goroutine. Shutdown
// closes the sockets itself before fasthttp's graceful shutdown, because
// fasthttp only closes listeners its Serve has already registered: that
// makes Start and Shutdown safe in any order and any interleaving (a
// Shutdown racing a just-started Serve used to leave it serving forever).
// After Shutdown, Start returns ErrClosed.
//
// A running balancer reloads (swap.go): Stage compiles a new config and
// binds the addresses it adds, Commit switches. A socket whose address and
// port stay keeps serving: the next request on it, on any connection, runs
// the new rules and target groups, requests already running finish on the
// old ones; its connections accepted from then on speak TLS or not, with
// the certificates the new config gives it. Added addresses are served at
// once; removed ones stop accepting and their connections drain (every
// request in flight answered) within Options.ShutdownTimeout. Shutdown
// waits for those drains too.
//
// # Request path
//
//  1. A top-level recover turns a panic into a logged 500; the
//     ErrorHandler, the ExpectHandler and the access-log write recover the
//     same way, since fasthttp recovers nothing.
//  2. Before any rule runs: an HTTP major version other than 1 gets 505, a
//     request line over 16 K 414, a header line over 16 K 400 (the limits of
//     ALB's quotas, "HTTP headers", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html;
//     these three also close the connection), TRACE 405 (documented) and
//     CONNECT 405 (UNCONFIRMED: albedo, like an ALB, is no forward proxy,
//     and an authority-form target is no path to route or forward), and an
//     X-Forwarded-For holding more than 30 addresses 463. A
//     Transfer-Encoding other than chunked (or identity) is refused by
//     fasthttp while reading and answered 501 by the error handler.
//  3. The first rule (lowest priority number) whose conditions all hold
//     wins; the default action is the last, condition-less rule.
//  4. Forward only, after picking the group: "Upgrade: websocket" gives
//     400 (LambdaWebsocketNotSupported); a body over
//     lambdaadapter.MaxRequestBodySize gives 413 (LambdaRequestTooLarge),
//     from its Content-Length before any of it is read, or as soon as a
//     chunked body passes the limit; a body that would exceed the body
//     budget gives 503 (error_reason BodyMemoryBudgetExceeded, albedo's
//     own; counted in the budget's Stats); a request target, header or
//     text body that is not UTF-8 gives 502 (LambdaBadRequest; status
//     UNCONFIRMED); all without invoking anything. The 413 and 503 are
//     sent while the client may still be sending, which then has 2 s to
//     stop before the connection closes (intake.Linger), so that it reads
//     the answer rather than a reset. A request with
//     "Expect: 100-continue" announcing an over-size body for a forward
//     rule gets the 413 (page and access-log line included) instead of
//     100, so the client never sends the body. Other actions never read
//     the body; fasthttp drops up to 256 KB of it after the answer, or
//     closes the connection.
//  5. Failures from Forward go through statusFor (status.go), the only
//     place a target failure becomes a status. Every failed forward logs
//     one line, "forward failed", at Warn (Error for
//     LambdaUnhandledException, albedo's own failure) with the listener,
//     rule, target_group, function, status and error_reason, and the
//     function's error_type and error_message for a function error
//     (targetgroup.FunctionError) or err otherwise.
//  6. A client that closed its connection while its request was at the
//     function (intake.PeerGone, checked when Forward returns: one
//     getsockopt, through TLS) is logged with elb_status_code 460 (ALB's
//     code: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-460-issues),
//     target_status_code the function's status if it answered,
//     sent_bytes 0; the invocation itself ran to its end, as on AWS. The
//     answer is still written, and the connection closed. A client that
//     only shut down its sending side after the request (an
//     HTTP/1.0-style half-close) cannot be told apart and is logged 460
//     too, as nginx logs 499. The check costs one getsockopt per forward
//     and allocates nothing (intake's BenchmarkPeerGone; figures in the
//     README's Performance section).
//
// Every response carries "Server: albedo", function responses included
// (ALB sets its own Server header the same way). Errors albedo generates
// carry an ALB-style HTML page (nginx layout with CRLF line ends, as ALB
// pages are observed; exact bytes beyond the 502 title UNCONFIRMED) with
// Content-Type text/html.
//
// # Conditions
//
// The conditions are ALB's rule condition types ("Rule condition types",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#rule-condition-types,
// and the API's RuleCondition,
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RuleCondition.html).
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
// # Actions
//
// The actions are ALB's rule action types ("Rule action types",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#rule-action-types,
// and the API's Action,
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html).
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
// See statusFor. Where AWS documents a failure's error_reason
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#error-reason-codes)
// but not the status the client receives, albedo chooses (UNCONFIRMED): access denied
// and function not found are 502; context.DeadlineExceeded (the
// balancer's own deadline, or a remote function's timeout in albedo, not
// a function's own timeout) is 504 LambdaConnectionTimeout; a remote
// Lambda service that cannot be reached is 502 LambdaConnectionError and
// one that fails (5xx) 502 LambdaServiceException; an event over Lambda's invoke payload limit
// (a body within 1 MB that JSON escaping grew past 6 MB) is 413
// LambdaRequestTooLarge; any error that fits no row is 502
// LambdaUnhandledException. Requests fasthttp cannot read get 501
// (unsupported Transfer-Encoding), 408 (read timeout) or 400 (malformed,
// headers over 64 KB, a body that ends early); a header block that ends
// with a bare LF instead of CRLF CRLF gets 400 at once (RFC 9112 §2.2
// allows refusing it; fasthttp alone would wait for the read timeout).
//
// # Access log
//
// With Options.AccessLog set, every request, including those rejected
// before a rule ran, gets one line with the 30 fields of an ALB access-log
// entry (the 29 of "Syntax",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-syntax,
// and conn_trace_id, as in Athena's table for ALB logs),
// formatted without allocating into pooled buffers and written through a
// 64 KB buffer flushed every second and at Shutdown. SetAccessLog moves
// the log to another writer after flushing what the old one is owed (log
// rotation), or turns it on or off. Times come from Options.Now. Every line
// parses with the regex of AWS's Athena table for ALB access logs (tests).
// On HTTPS listeners ssl_cipher and ssl_protocol are OpenSSL's names, as
// ALB writes them (ECDHE-RSA-AES128-GCM-SHA256, TLSv1.2; TLS 1.3 suites
// keep their one name); domain_name is the client's SNI when a
// certificate of the listener matched it, "-" when the default (first)
// certificate was presented for want of a match, as ALB logs it;
// chosen_cert_arn is the presented certificate's ARN, an ACM-style ARN
// albedo derives from the certificate (certs.go), or "session-reused".
// Approximations:
// request_processing_time starts when the handler is called (after the
// head, and includes reading a forwarded body, as on ALB); received_bytes
// counts the head and the body bytes read (none for a body refused or
// ignored unread); sent_bytes counts the response head as fasthttp would
// serialise it plus the body; trace_id is X-Amzn-Trace-Id as a forward
// left it (what the function got, Root= generated when the client sent
// none) or as the client sent it ("-" without one); conn_trace_id
// is "TID_" and the connection's number in the process, in hex (format
// UNCONFIRMED). Quoted fields escape '"', '\' and
// non-printable bytes as \xNN.
//
// # Metrics
//
// With Options.Metrics (one *Metrics per process, NewMetrics; a Balancer
// built again on it counts into the same series), every request is counted
// where its access-log line is written, from the same entry: requests by
// listener (port) and rule priority ("0" the default rule, "-" refused
// before any rule), responses by code class and producer ("function" for
// a function's own status, "albedo" for everything albedo generates,
// CloudWatch's HTTPCode_Target_* vs HTTPCode_ELB_*; a client gone counts
// as its 460), request and target duration histograms, Lambda user and
// internal errors by target group and error_reason (each code's metric as
// in https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#error-reason-codes),
// processed bytes (received_bytes + sent_bytes), redirects, fixed
// responses, rules evaluated (the default rule not counted), open
// connections (fasthttp's ConnState) and requests refused before any rule
// or over the body budget, by status. New resolves every series into the
// compiled rules and forward targets, so counting costs atomic additions
// and two histogram observations, without allocation or a shared lock
// (TestZeroAllocs; BenchmarkHandleMetrics against BenchmarkHandle measures
// what it adds: see the README's Performance section).
//
// HTTPS listeners terminate TLS with crypto/tls; the certificate is chosen
// by SNI among the listener's certificates, the first being the default.
//
// # Dependencies
//
// balancer imports config (the listeners and rules it compiles),
// targetgroup (only its errors, which status.go maps to statuses) and
// lambdaadapter: the Forwarder's Conn, the ALB's body limit and UTF-8
// check applied before any rule runs, and the one reading of path and
// query (SplitRequestURI, NextQueryParam) that the rules share with the
// event encoder, so a rule matches exactly what the function will see. It
// never imports the Lambda service (targetgroup/executor and below), and
// nothing but cmd imports balancer. The whole set of rules is in the
// README's "Layout" and is enforced by cmd/albedo's TestImportRules.
package balancer
