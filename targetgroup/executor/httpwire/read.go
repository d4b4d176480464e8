package httpwire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/albedo-lb/albedo/internal/ascii"
)

// Limits of a request head and of the framing lines of a chunked body.
const (
	// MaxHeadBytes bounds the request line and headers (net/http's
	// default).
	MaxHeadBytes = 1 << 20
	// MaxBodyDrain is how far past its limit a body is read (to answer
	// 413 rather than reset the connection) before the connection goes.
	MaxBodyDrain = 64 << 20

	maxChunkLine  = 4 << 10 // chunk-size line with extensions
	maxTrailer    = 1 << 20 // trailer section (carries a base64 error body)
	keptBodyLimit = 1 << 20 // per-connection buffer kept for reuse
)

// Errors of ReadHead and ReadBody. After any of them the stream is out of
// step: the connection must close (after a 400 or 431 answer).
var (
	ErrBadRequest    = errors.New("httpwire: malformed request")
	ErrHeadTooLarge  = errors.New("httpwire: request head too large")
	ErrUnsupportedTE = errors.New("httpwire: unsupported transfer encoding")
)

// The malformed requests that net/http accepts and a Reader refuses (see
// the package doc), each an ErrBadRequest.
var (
	errSpaceInName   = fmt.Errorf("%w: space in a field name", ErrBadRequest)
	errObsFold       = fmt.Errorf("%w: obsolete line folding", ErrBadRequest)
	errTrailerNoCRLF = fmt.Errorf("%w: trailer line not ended by CRLF", ErrBadRequest)
)

// Field is one header or trailer field, its value without surrounding
// blanks.
type Field struct {
	Name, Value []byte
}

// Request is the parsed head of one request, and what its body's trailers
// said. Every byte slice points into the Reader's scratch space and is
// valid until its next ReadHead.
type Request struct {
	Method []byte
	// Path is the request target without its query; an absolute-form
	// target ("http://host/p") gives its path.
	Path          []byte
	HTTP10        bool
	Close         bool  // the connection ends after the answer
	ContentLength int64 // -1 when chunked
	Expect        bool  // Expect: 100-continue, no 100 Continue sent yet
	BodyDone      bool  // the body was consumed (or there is none)
	Header        []Field
	Trailer       []Field // after ReadBody of a chunked body
}

// Get returns the value of the first header field called name (ASCII
// case-insensitive), nil when there is none.
func (r *Request) Get(name string) []byte { return get(r.Header, name) }

// GetTrailer is Get for the trailer fields.
func (r *Request) GetTrailer(name string) []byte { return get(r.Trailer, name) }

func get(fields []Field, name string) []byte {
	for _, f := range fields {
		if ascii.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return nil
}

// Reader reads requests from a buffered stream, one at a time: ReadHead,
// then ReadBody or DiscardBody.
type Reader struct {
	br       *bufio.Reader
	scratch  []byte  // the request line and field lines, copied
	spans    []span  // fields within scratch
	fieldBuf []Field // Req.Header and Req.Trailer
	long     []byte  // accumulates lines longer than br's buffer
	body     []byte  // chunked body scratch
	excess   int64   // chunk framing bytes beyond the data's allowance
	Req      Request
}

// span locates a field in the scratch buffer.
type span struct{ name, value, end int }

// NewReader returns a Reader of rd with a read buffer of size bytes.
func NewReader(rd io.Reader, size int) *Reader {
	return &Reader{br: bufio.NewReaderSize(rd, size)}
}

// Buffered is the number of bytes read from the stream and not consumed:
// the start of a pipelined request, when the current one is done.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// Wait blocks until the next request's first byte arrives (or the stream
// fails), consuming nothing.
func (r *Reader) Wait() error {
	_, err := r.br.Peek(1)
	return err
}

// readLine returns the next line without its line ending (CRLF or a bare
// LF), valid until the next read. budget bounds the bytes consumed.
func (r *Reader) readLine(budget *int) ([]byte, error) {
	line, _, err := r.readLineEnd(budget)
	return line, err
}

// readLineEnd is readLine, also reporting whether the line ended in CRLF.
func (r *Reader) readLineEnd(budget *int) (_ []byte, crlf bool, _ error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.long = append(r.long[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(r.long) > *budget {
				return nil, false, ErrHeadTooLarge
			}
			line, err = r.br.ReadSlice('\n')
			r.long = append(r.long, line...)
		}
		line = r.long
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, err
	}
	*budget -= len(line)
	if *budget < 0 {
		return nil, false, ErrHeadTooLarge
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		return line[:n-1], true, nil
	}
	return line, false, nil
}

// ReadHead reads a request line and header fields into r.Req. io.EOF
// means the peer closed the connection between requests.
func (r *Reader) ReadHead() error {
	r.Req = Request{}
	if cap(r.long) > keptBodyLimit {
		r.long = nil
	}
	budget := MaxHeadBytes
	line, err := r.requestLine(&budget)
	if err != nil {
		return err
	}
	r.scratch = append(r.scratch[:0], line...)
	r.spans = r.spans[:0]
	clear(r.fieldBuf) // no references into old requests
	r.fieldBuf = r.fieldBuf[:0]
	if err := r.parseRequestLine(len(line)); err != nil {
		return err
	}
	if err := r.readFields(&budget, false); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	r.Req.Header = r.fields(0)
	return r.frame()
}

// requestLine reads the request line, skipping the empty lines a client
// may send before it (RFC 9112 section 2.2).
func (r *Reader) requestLine(budget *int) ([]byte, error) {
	for {
		line, err := r.readLine(budget)
		if err != nil || len(line) > 0 {
			return line, err
		}
	}
}

// parseRequestLine splits the request line, the first n bytes of
// r.scratch, into method, path and version as net/http accepts them: a
// token method, a request target url.ParseRequestURI accepts, HTTP/1.0 or
// HTTP/1.x (read as 1.1; net/http's server answers other versions 505).
func (r *Reader) parseRequestLine(n int) error {
	method, rest, ok1 := bytes.Cut(r.scratch[:n:n], []byte{' '})
	target, proto, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 || !isToken(method) || !validTarget(method, target) {
		return ErrBadRequest
	}
	switch {
	case string(proto) == "HTTP/1.1":
	case string(proto) == "HTTP/1.0":
		r.Req.HTTP10, r.Req.Close = true, true
	case len(proto) == 8 && string(proto[:7]) == "HTTP/1." && proto[7] >= '1' && proto[7] <= '9':
	default:
		return ErrBadRequest
	}
	r.Req.Method, r.Req.Path = method, targetPath(target)
	return nil
}

// readFields reads field lines up to the empty line that ends them,
// copying each into r.scratch and noting it in r.spans. Trailer lines
// (trailer) must end in CRLF, as chunk lines must; header lines may end
// in a bare LF, as net/http reads them. Obsolete line folding and
// whitespace before the colon are refused (RFC 9112 sections 5.1, 5.2).
func (r *Reader) readFields(budget *int, trailer bool) error {
	for {
		line, crlf, err := r.readLineEnd(budget)
		if err != nil {
			return err
		}
		if trailer && !crlf {
			return errTrailerNoCRLF
		}
		if len(line) == 0 {
			return nil
		}
		name, value, err := splitField(line)
		if err != nil {
			return err
		}
		start := len(r.scratch)
		r.scratch = append(r.scratch, name...)
		r.scratch = append(r.scratch, value...)
		r.spans = append(r.spans, span{name: start, value: start + len(name), end: len(r.scratch)})
	}
}

// splitField splits a field line into its name and its value without
// surrounding blanks.
func splitField(line []byte) (name, value []byte, err error) {
	if line[0] == ' ' || line[0] == '\t' {
		return nil, nil, errObsFold
	}
	name, value, ok := bytes.Cut(line, []byte{':'})
	switch {
	case !ok:
		return nil, nil, ErrBadRequest
	case !isToken(name):
		if isToken(bytes.ReplaceAll(name, []byte{' '}, []byte{'!'})) {
			return nil, nil, errSpaceInName
		}
		return nil, nil, ErrBadRequest
	case !validValue(value):
		return nil, nil, ErrBadRequest
	}
	return name, trimBlanks(value), nil
}

// fields turns r.spans from index i on into Fields over r.scratch, in
// r.fieldBuf (reused: a request costs no allocation but its body).
func (r *Reader) fields(i int) []Field {
	if len(r.spans) == i {
		return nil
	}
	start := len(r.fieldBuf)
	for _, s := range r.spans[i:] {
		r.fieldBuf = append(r.fieldBuf, Field{Name: r.scratch[s.name:s.value:s.value], Value: r.scratch[s.value:s.end:s.end]})
	}
	return r.fieldBuf[start:len(r.fieldBuf):len(r.fieldBuf)]
}

// frame works out the body's framing and the connection's fate from the
// header fields, as net/http does: Content-Length (repeated only with the
// same value), chunked (the only transfer coding, in one field, ignored
// on HTTP/1.0; it wins over a Content-Length, after which the connection
// closes, RFC 9112 section 6.1), no Trailer declaring a framing field,
// Connection, Expect (100-continue among its tokens, or empty; net/http's
// server answers other expectations 417), at most one Host.
func (r *Reader) frame() error {
	req := &r.Req
	var length, expect []byte
	chunked, hosts := false, 0
	for _, f := range req.Header {
		switch {
		case ascii.EqualFold(f.Name, "Content-Length"):
			if length != nil && !bytes.Equal(f.Value, length) {
				return ErrBadRequest
			}
			length = f.Value
		case ascii.EqualFold(f.Name, "Transfer-Encoding"):
			if req.HTTP10 {
				continue
			}
			if !ascii.EqualFold(f.Value, "chunked") || chunked {
				return ErrUnsupportedTE
			}
			chunked = true
		case ascii.EqualFold(f.Name, "Connection"):
			switch {
			case listHas(f.Value, "close"):
				req.Close = true
			case listHas(f.Value, "keep-alive") && req.HTTP10:
				req.Close = false
			}
		case ascii.EqualFold(f.Name, "Expect"):
			if expect == nil {
				expect = f.Value // the first one counts
			}
		case ascii.EqualFold(f.Name, "Host"):
			if hosts++; hosts > 1 {
				return ErrBadRequest
			}
		}
	}
	if length != nil {
		n, ok := parseLength(length)
		if !ok {
			return ErrBadRequest
		}
		req.ContentLength = n
	}
	if chunked {
		if !validTrailerDeclaration(req.Header) {
			return ErrBadRequest
		}
		if length != nil {
			req.Close = true
		}
		req.ContentLength = -1
	}
	req.BodyDone = req.ContentLength == 0
	if len(expect) > 0 {
		if !hasToken(expect, "100-continue") {
			return ErrBadRequest
		}
		req.Expect = !req.HTTP10 && !req.BodyDone
	}
	return nil
}

// validTrailerDeclaration reports whether no Trailer field names a field
// that frames the message (net/http refuses those).
func validTrailerDeclaration(header []Field) bool {
	for _, f := range header {
		if !ascii.EqualFold(f.Name, "Trailer") {
			continue
		}
		if listHas(f.Value, "Transfer-Encoding") || listHas(f.Value, "Trailer") || listHas(f.Value, "Content-Length") {
			return false
		}
	}
	return true
}

// ReadBody reads the request body, keeping at most limit bytes. tooLarge
// reports a bigger body, size its length (counted up to limit plus
// MaxBodyDrain for a chunked one; declared for a Content-Length one, which
// is then left unread). body is owned by the caller.
func (r *Reader) ReadBody(limit int) (body []byte, size int64, tooLarge bool, err error) {
	defer func() {
		if err != nil {
			// The stream is out of step: nothing more can be read from it.
			r.Req.BodyDone, r.Req.Close = true, true
		}
	}()
	if r.Req.BodyDone {
		return nil, 0, false, nil
	}
	if n := r.Req.ContentLength; n >= 0 {
		if n > int64(limit) {
			return nil, n, true, nil
		}
		body = make([]byte, n)
		if _, err := io.ReadFull(r.br, body); err != nil {
			return nil, 0, false, ErrBadRequest
		}
		r.Req.BodyDone = true
		return body, n, false, nil
	}
	return r.readChunked(limit)
}

// readChunked reads a chunked body and its trailer section (ReadBody).
func (r *Reader) readChunked(limit int) (body []byte, size int64, tooLarge bool, err error) {
	r.excess = 0
	buf := r.body[:0]
	defer func() {
		if cap(buf) <= keptBodyLimit {
			r.body = buf[:0]
		} else {
			r.body = nil
		}
	}()
	for {
		n, err := r.chunkSize()
		if err != nil {
			return nil, 0, false, err
		}
		if n == 0 {
			break
		}
		keep := min(n, max(int64(limit+1)-size, 0))
		if keep > 0 {
			old := len(buf)
			buf = growLen(buf, old+int(keep))
			if _, err := io.ReadFull(r.br, buf[old:]); err != nil {
				return nil, 0, false, ErrBadRequest
			}
		}
		if rest := n - keep; rest > 0 {
			if size+n > int64(limit)+MaxBodyDrain {
				// Stop counting; the rest stays unread and the
				// connection goes.
				r.Req.BodyDone, r.Req.Close = true, true
				return nil, size + n, true, nil
			}
			if _, err := r.br.Discard(int(rest)); err != nil {
				return nil, 0, false, ErrBadRequest
			}
		}
		size += n
		if err := r.chunkEnd(); err != nil {
			return nil, 0, false, err
		}
	}
	if err := r.readTrailer(); err != nil {
		return nil, 0, false, err
	}
	r.Req.BodyDone = true
	if size > int64(limit) {
		return nil, size, true, nil
	}
	return bytes.Clone(buf), size, false, nil
}

// chunkSize reads a chunk-size line as net/http does: CRLF-terminated
// with no other CR, shorter than maxChunkLine, trailing blanks and
// extensions dropped, 1-16 hex digits. Like net/http it refuses a body
// whose chunk lines and extensions outweigh its data by more than 16 KB.
func (r *Reader) chunkSize() (int64, error) {
	budget := maxChunkLine + 2
	line, crlf, err := r.readLineEnd(&budget)
	if err != nil || !crlf || len(line) >= maxChunkLine || bytes.IndexByte(line, '\r') >= 0 {
		return 0, ErrBadRequest
	}
	r.excess += int64(len(line)) + 2
	line = bytes.TrimRight(line, " \t")
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	n, ok := parseHex(line)
	if !ok {
		return 0, ErrBadRequest
	}
	r.excess = max(r.excess-16-2*min(n, 1<<40), 0)
	if r.excess > 16<<10 {
		return 0, ErrBadRequest
	}
	return n, nil
}

// chunkEnd reads the CRLF after a chunk's data.
func (r *Reader) chunkEnd() error {
	var crlf [2]byte
	if _, err := io.ReadFull(r.br, crlf[:]); err != nil || crlf != [2]byte{'\r', '\n'} {
		return ErrBadRequest
	}
	return nil
}

// readTrailer reads the trailer section after the last chunk into
// r.Req.Trailer.
func (r *Reader) readTrailer() error {
	budget := maxTrailer
	n := len(r.spans)
	if err := r.readFields(&budget, true); err != nil {
		if !errors.Is(err, ErrBadRequest) {
			err = ErrBadRequest
		}
		return err
	}
	r.Req.Trailer = r.fields(n)
	return nil
}

// DiscardBody skips an unread body of at most limit bytes; false means
// the connection must close.
func (r *Reader) DiscardBody(limit int64) bool {
	if r.Req.BodyDone {
		return true
	}
	if r.Req.Expect { // the client waits for 100 Continue, never sent
		return false
	}
	if n := r.Req.ContentLength; n >= 0 {
		if n > limit {
			return false
		}
		_, err := r.br.Discard(int(n))
		r.Req.BodyDone = err == nil
		return err == nil
	}
	_, _, _, err := r.ReadBody(0)
	return err == nil && !r.Req.Close
}

// growLen returns b extended to length n, reallocating with room to spare.
func growLen(b []byte, n int) []byte {
	if n <= cap(b) {
		return b[:n]
	}
	nb := make([]byte, n, max(n, 2*cap(b), 4096))
	copy(nb, b)
	return nb
}
