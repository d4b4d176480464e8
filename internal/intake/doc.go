// Package intake is the front door shared by albedo's HTTP servers (the
// balancer's listeners and the admin API): it reads request bodies so that
// memory follows the bytes that arrive, never the bytes declared, within a
// process-wide budget; it answers a header block that ends with a bare LF
// at once instead of letting fasthttp wait for its read timeout; it tells
// whether a client hung up; and it refuses a body without the reset that
// would hide the refusal.
//
// # Bodies
//
// A server using Body runs fasthttp with StreamRequestBody and
// MaxRequestBodySize = PrefetchSize (1). fasthttp then reads at most one
// byte of a body before calling the handler (with "Expect: 100-continue",
// none before its ExpectHandler) and hands it the rest as a stream,
// whatever Content-Length says; MaxRequestBodySize no longer refuses
// anything. The handler runs its checks on the head first (authentication,
// declared size), then Body.Read reads the body into a buffer that starts at
// 4 KB and doubles as bytes arrive (pooled up to 64 KB, one pool per size),
// so a connection that declares 7 MB and sends 2 bytes holds 4 KB. Every growth is reserved from the Budget first; the reservation is
// held until Body.Release at the end of the handler, so the Budget caps the
// bytes held for all bodies being received or served at once. A body that
// does not fit is refused (ErrBudget), counted in Budget.Stats, and the
// server answers 503 (listeners) or 429 (admin API).
//
// What a connection costs otherwise: its fasthttp read buffer (64 KB on
// listeners, 16 KB on the admin API). With StreamRequestBody, fasthttp
// v1.78 keeps it from the connection's first request until the connection
// closes (it cannot tell whether a stream still reads from it), so an idle
// keep-alive connection holds it until the idle timeout; without
// streaming it was given back between requests. That adds no new cost per
// connection: a client could already pin the same buffer for the read
// timeout by sending one byte of a head. A connection that never sent a
// byte holds none.
//
// # Bare LF
//
// fasthttp accepts a bare LF at the end of a header line only when the
// block still ends with CRLF CRLF; for a block that ends with "\n\n" it
// waits for more bytes until the read timeout (60 s) and then answers 408.
// RFC 9112 §2.2 lets a server accept bare LF or refuse it; albedo refuses
// it at once: Conn watches each request's header block for its blank line
// and, when it is not CRLF CRLF and no further byte arrives within 100 ms,
// fails fasthttp's read with ErrBareLF, which the servers answer 400.
// Watching restarts at Done, which handlers call last, and only once the
// request's body was read, so body bytes are never mistaken for headers.
// (A pipelined request whose head was already buffered with the previous
// body is not watched; bytes that keep arriving after a suspect blank
// line also end the watch.)
//
// # Clients that hang up
//
// PeerGone asks the kernel for the socket's TCP state (Linux: TCP_INFO,
// one getsockopt; other Unix: a non-blocking MSG_PEEK for EOF, which a TLS
// client's close_notify hides). It reads nothing, never blocks, allocates
// nothing and sees through TLS.
//
// # Refusing a body
//
// Linger answers, shuts down the sending side and drops what the client
// still sends for up to 2 s before closing, so that a client sending a
// body it was not asked to hold back still reads the answer.
//
// # Concurrency
//
// Budget is safe for concurrent use. A Body, and a Conn, belong to one
// request's (one connection's) serving goroutine.
package intake
