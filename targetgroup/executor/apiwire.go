package executor

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
)

// The Runtime API speaks a small subset of HTTP/1.1: a runtime sends GET
// and POST requests with a Content-Length or chunked body (aws-lambda-go
// always sends chunked bodies with declared trailers) and waits for each
// answer before the next request. apiwire reads such requests.

// Limits of a request head and of the framing lines of a chunked body.
const (
	maxHeadBytes  = 1 << 20 // request line and headers (net/http's default)
	maxChunkLine  = 4 << 10 // chunk-size line with extensions
	maxTrailer    = 1 << 20 // trailer section (carries a base64 error body)
	maxBodyDrain  = 64 << 20
	keptBodyLimit = 1 << 20 // per-connection body buffer kept for reuse
)

var (
	errBadRequest    = errors.New("executor: malformed runtime api request")
	errHeadTooLarge  = errors.New("executor: runtime api request head too large")
	errUnsupportedTE = errors.New("executor: unsupported transfer encoding")
)

// apiRequest is the parsed head of one request plus what its body's
// trailers said. Byte slices point into the reading connection's scratch
// space and are valid until the next request.
type apiRequest struct {
	method        []byte
	path          []byte // without the query
	http10        bool
	close         bool  // the connection ends after the answer
	contentLength int64 // -1 when chunked
	expect        bool  // Expect: 100-continue
	errorType     string
	extName       string // Lambda-Extension-Name
	extID         string // Lambda-Extension-Identifier
	extErrorType  string // Lambda-Extension-Function-Error-Type
	// from the trailers of a chunked body
	trailerErrType string
	trailerErrBody string

	bodyDone bool // the body was consumed
}

// apiReader reads requests from a buffered stream.
type apiReader struct {
	br   *bufio.Reader
	line []byte // request line copy
	long []byte // accumulates lines longer than br's buffer
	body []byte // body scratch
	req  apiRequest
}

// readLine returns the next line without its line ending, valid until the
// next read. budget bounds the bytes consumed.
func (r *apiReader) readLine(budget *int) ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.long = append(r.long[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(r.long) > *budget {
				return nil, errHeadTooLarge
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
		return nil, err
	}
	*budget -= len(line)
	if *budget < 0 {
		return nil, errHeadTooLarge
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readHead reads a request line and headers into r.req. io.EOF means the
// peer closed the connection between requests.
func (r *apiReader) readHead() error {
	r.req = apiRequest{contentLength: 0}
	if cap(r.long) > keptBodyLimit {
		r.long = nil
	}
	budget := maxHeadBytes
	var line []byte
	var err error
	for { // RFC 9112 2.2: ignore empty lines before the request line
		if line, err = r.readLine(&budget); err != nil {
			return err
		}
		if len(line) > 0 {
			break
		}
	}
	r.line = append(r.line[:0], line...)
	method, rest, ok1 := bytes.Cut(r.line, []byte{' '})
	target, proto, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 || len(method) == 0 || len(target) == 0 {
		return errBadRequest
	}
	switch string(proto) {
	case "HTTP/1.1":
	case "HTTP/1.0":
		r.req.http10, r.req.close = true, true
	default:
		return errBadRequest
	}
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	if rest, ok := bytes.CutPrefix(target, []byte("http://")); ok { // absolute form
		if i := bytes.IndexByte(rest, '/'); i >= 0 {
			target = rest[i:]
		} else {
			target = []byte("/")
		}
	}
	r.req.method, r.req.path = method, target
	chunked, haveLength := false, false
	for {
		line, err := r.readLine(&budget)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok || len(name) == 0 || name[len(name)-1] == ' ' || name[len(name)-1] == '\t' {
			return errBadRequest
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 || value[0] == '+' || (haveLength && n != r.req.contentLength) {
				return errBadRequest
			}
			r.req.contentLength, haveLength = n, true
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if !bytes.EqualFold(value, []byte("chunked")) || chunked {
				return errUnsupportedTE
			}
			chunked = true
		case bytes.EqualFold(name, []byte("Connection")):
			for _, opt := range bytes.Split(value, []byte{','}) {
				opt = bytes.TrimSpace(opt)
				switch {
				case bytes.EqualFold(opt, []byte("close")):
					r.req.close = true
				case bytes.EqualFold(opt, []byte("keep-alive")) && r.req.http10:
					r.req.close = false
				}
			}
		case bytes.EqualFold(name, []byte("Expect")):
			if !bytes.EqualFold(value, []byte("100-continue")) {
				return errBadRequest
			}
			r.req.expect = !r.req.http10
		case bytes.EqualFold(name, []byte(hdrErrorType)):
			r.req.errorType = string(value)
		case bytes.EqualFold(name, []byte(hdrExtName)):
			r.req.extName = string(value)
		case bytes.EqualFold(name, []byte(hdrExtID)):
			r.req.extID = string(value)
		case bytes.EqualFold(name, []byte(hdrExtErrorType)):
			r.req.extErrorType = string(value)
		}
	}
	if chunked {
		if r.req.http10 {
			return errBadRequest
		}
		// RFC 9112 6.3: chunked wins over a Content-Length, which a
		// server must not trust then; the connection closes afterwards.
		if haveLength {
			r.req.close = true
		}
		r.req.contentLength = -1
	}
	r.req.bodyDone = r.req.contentLength == 0
	return nil
}

// readBody reads the request body, keeping at most limit bytes. tooLarge
// reports a bigger body, size its length (counted up to limit plus
// maxBodyDrain for a chunked one; declared for a Content-Length one, which
// is then left unread). body is owned by the caller.
func (r *apiReader) readBody(limit int) (body []byte, size int64, tooLarge bool, err error) {
	defer func() {
		if err != nil {
			// The stream is out of step: nothing more can be read from it.
			r.req.bodyDone, r.req.close = true, true
		}
	}()
	if r.req.bodyDone {
		return nil, 0, false, nil
	}
	if n := r.req.contentLength; n >= 0 {
		if n > int64(limit) {
			return nil, n, true, nil
		}
		body = make([]byte, n)
		if _, err := io.ReadFull(r.br, body); err != nil {
			return nil, 0, false, errBadRequest
		}
		r.req.bodyDone = true
		return body, n, false, nil
	}
	buf := r.body[:0]
	defer func() {
		if cap(buf) <= keptBodyLimit {
			r.body = buf[:0]
		} else {
			r.body = nil
		}
	}()
	for {
		budget := maxChunkLine
		line, err := r.readLine(&budget)
		if err != nil {
			return nil, 0, false, errBadRequest
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		line = bytes.TrimRight(line, " \t")
		n, err := strconv.ParseUint(string(line), 16, 63)
		if err != nil || len(line) == 0 || len(line) > 15 {
			return nil, 0, false, errBadRequest
		}
		if n == 0 {
			break
		}
		keep := min(int64(n), max(int64(limit+1)-size, 0))
		if keep > 0 {
			old := len(buf)
			buf = growLen(buf, old+int(keep))
			if _, err := io.ReadFull(r.br, buf[old:]); err != nil {
				return nil, 0, false, errBadRequest
			}
		}
		if rest := int64(n) - keep; rest > 0 {
			if size+int64(n) > int64(limit)+maxBodyDrain {
				// Stop counting; the rest stays unread and the
				// connection goes.
				r.req.bodyDone, r.req.close = true, true
				return nil, size + int64(n), true, nil
			}
			if _, err := r.br.Discard(int(rest)); err != nil {
				return nil, 0, false, errBadRequest
			}
		}
		size += int64(n)
		budget = 2
		if crlf, err := r.readLine(&budget); err != nil || len(crlf) != 0 {
			return nil, 0, false, errBadRequest
		}
	}
	if err := r.readTrailer(); err != nil {
		return nil, 0, false, err
	}
	r.req.bodyDone = true
	if size > int64(limit) {
		return nil, size, true, nil
	}
	return bytes.Clone(buf), size, false, nil
}

// readTrailer reads the trailer section after the last chunk, keeping the
// error fields of a streamed response.
func (r *apiReader) readTrailer() error {
	budget := maxTrailer
	for {
		line, err := r.readLine(&budget)
		if err != nil {
			return errBadRequest
		}
		if len(line) == 0 {
			return nil
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return errBadRequest
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte(hdrErrorType)):
			r.req.trailerErrType = string(value)
		case bytes.EqualFold(name, []byte(hdrErrorBody)):
			r.req.trailerErrBody = string(value)
		}
	}
}

// discardBody skips an unread body of at most limit bytes; false means
// the connection must close.
func (r *apiReader) discardBody(limit int64) bool {
	if r.req.bodyDone {
		return true
	}
	if r.req.expect { // the client waits for 100 Continue we never sent
		return false
	}
	if n := r.req.contentLength; n >= 0 {
		if n > limit {
			return false
		}
		_, err := r.br.Discard(int(n))
		r.req.bodyDone = err == nil
		return err == nil
	}
	_, _, _, err := r.readBody(0)
	return err == nil && !r.req.close
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
