// Package httpwire is the HTTP/1.1 of the executor's Runtime API server:
// it reads requests from a connection (Reader) and writes the answers
// (Writer, AppendHead, AppendField), nothing more. Routing, the parked
// /next and who reads a connection when are the executor's.
//
// It is not net/http because a warm invocation must cost as little as
// possible: the executor answers a parked GET /next on the goroutine that
// hands the invocation over and reads a runtime's next requests on the
// invoking goroutine, which net/http's goroutine-per-connection handlers
// cannot do, and a Reader reuses its buffers (no allocation for a request
// but its body). It reads what runtimes send: GET and POST with a
// Content-Length or a chunked body with trailers (aws-lambda-go always
// sends chunked bodies and declares trailers), Expect: 100-continue,
// pipelined requests.
//
// # Compared with net/http
//
// A Reader accepts and refuses what net/http.ReadRequest does, and reads
// the same method, path, header fields, body and trailer fields
// (FuzzAgainstNetHTTP checks it), except:
//
//   - Empty lines before a request line are skipped (RFC 9112 section
//     2.2); net/http's server skips up to four bytes of them, after a POST
//     only.
//   - Whitespace between a field name and its colon is refused (RFC 9112
//     section 5.1 requires it); net/http keeps such a field under a name
//     ending in a space.
//   - Obsolete line folding (a field line starting with a blank) is
//     refused (RFC 9112 section 5.2 allows it); net/http joins the lines.
//   - Trailer field lines must end in CRLF, like chunk lines. net/http
//     reads a trailer section only when CRLF CRLF follows within its read
//     buffer (4 KB in its server; a longer trailer is "suspiciously
//     long"), and then reads bare LF lines too. A trailer section here may
//     be 1 MB: aws-lambda-go sends a failed response's error body there.
//   - Versions other than HTTP/1.x and expectations other than
//     100-continue are refused here, where net/http.ReadRequest leaves
//     them to its server (505, 417).
//   - Path is the request target's path as sent, before the query;
//     net/http decodes it into URL.Path.
//
// # Concurrency
//
// A Reader is used by one goroutine at a time; the executor passes a
// connection's Reader from one goroutine to another only between
// requests. A Writer is safe for concurrent use. Request fields point into
// the Reader's buffers and are valid until its next ReadHead.
package httpwire
