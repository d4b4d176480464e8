package httpwire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// maxResponseSize is the executor's limit on a runtime's answer.
const maxResponseSize = 6*1024*1024 + 100

func newReader(s string) *Reader { return NewReader(strings.NewReader(s), 16) }

func TestReadRequest(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 100)
	tests := []struct {
		name        string
		in          string
		wantErr     error
		wantPath    string
		wantBody    string
		wantSize    int64
		wantLarge   bool
		wantClose   bool
		wantExpect  bool
		wantErrType string
		wantTrailer [2]string
		limit       int
	}{
		{name: "get", in: "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n", wantPath: "/2018-06-01/runtime/invocation/next"},
		{name: "bare LF and query", in: "GET /a?b=c HTTP/1.1\nHost: x\n\n", wantPath: "/a"},
		{name: "absolute form", in: "GET http://h:1/p/q HTTP/1.1\r\n\r\n", wantPath: "/p/q"},
		{name: "leading empty line", in: "\r\nGET / HTTP/1.1\r\n\r\n", wantPath: "/"},
		{name: "content length", in: "POST /r HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", wantPath: "/r", wantBody: "hello", wantSize: 5},
		{name: "chunked with declared trailers, none sent (aws-lambda-go)",
			in:       "POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTrailer: Lambda-Runtime-Function-Error-Type\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
			wantPath: "/r", wantBody: "hello world", wantSize: 11},
		{name: "chunked with trailers",
			in:       "POST /r HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\na\r\n{\"partial\"\r\n0\r\nlambda-runtime-function-error-type: Stream.Broken\r\nLambda-Runtime-Function-Error-Body: e30=\r\n\r\n",
			wantPath: "/r", wantBody: `{"partial"`, wantSize: 10, wantTrailer: [2]string{"Stream.Broken", "e30="}},
		{name: "chunked over the limit", limit: 4, in: "POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
			wantPath: "/r", wantSize: 6, wantLarge: true},
		{name: "length over the limit", limit: 4, in: "POST /r HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789",
			wantPath: "/r", wantSize: 9, wantLarge: true},
		{name: "error type header", in: "POST /r HTTP/1.1\r\nLambda-Runtime-Function-Error-Type: Runtime.X\r\nContent-Length: 0\r\n\r\n",
			wantPath: "/r", wantErrType: "Runtime.X"},
		{name: "http/1.0 closes", in: "GET / HTTP/1.0\r\n\r\n", wantPath: "/", wantClose: true},
		{name: "http/1.0 keep-alive", in: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", wantPath: "/"},
		{name: "connection close", in: "GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", wantPath: "/", wantClose: true},
		{name: "expect", in: "POST /r HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok", wantPath: "/r", wantExpect: true, wantBody: "ok", wantSize: 2},
		{name: "chunked and length", in: "POST /r HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
			wantPath: "/r", wantBody: "ok", wantSize: 2, wantClose: true},
		{name: "long header line", in: "GET / HTTP/1.1\r\nX-Long: " + long + "\r\n\r\n", wantPath: "/"},
		{name: "bad request line", in: "GET /\r\n\r\n", wantErr: ErrBadRequest},
		{name: "bad proto", in: "GET / HTTP/2.0\r\n\r\n", wantErr: ErrBadRequest},
		{name: "bad length", in: "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", wantErr: ErrBadRequest},
		{name: "conflicting lengths", in: "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", wantErr: ErrBadRequest},
		{name: "gzip", in: "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", wantErr: ErrUnsupportedTE},
		{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : x\r\n\r\n", wantErr: ErrBadRequest},
		{name: "truncated head", in: "GET / HTTP/1.1\r\nHost: x\r\n", wantErr: io.ErrUnexpectedEOF},
		{name: "eof", in: "", wantErr: io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newReader(tt.in)
			err := r.ReadHead()
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("ReadHead = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			errType := string(r.Req.Get("Lambda-Runtime-Function-Error-Type"))
			if string(r.Req.Path) != tt.wantPath || r.Req.Expect != tt.wantExpect || errType != tt.wantErrType {
				t.Errorf("head = path %q expect %v errorType %q", r.Req.Path, r.Req.Expect, errType)
			}
			limit := tt.limit
			if limit == 0 {
				limit = maxResponseSize
			}
			body, size, large, err := r.ReadBody(limit)
			if err != nil {
				t.Fatalf("readBody: %v", err)
			}
			if string(body) != tt.wantBody || size != tt.wantSize || large != tt.wantLarge {
				t.Errorf("body = %q size %d large %v", body, size, large)
			}
			if r.Req.Close != tt.wantClose {
				t.Errorf("close = %v", r.Req.Close)
			}
			got := [2]string{string(r.Req.GetTrailer("Lambda-Runtime-Function-Error-Type")), string(r.Req.GetTrailer("Lambda-Runtime-Function-Error-Body"))}
			if got != tt.wantTrailer {
				t.Errorf("trailer = %q", got)
			}
		})
	}
}

func TestReadBodyMalformedChunks(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"zz\r\nab\r\n0\r\n\r\n",           // not hex
		"2\r\nabc\r\n0\r\n\r\n",           // no CRLF after data
		"2\r\nab\r\n0\r\nNoColon\r\n\r\n", // bad trailer
		"2\r\nab",                         // truncated
		"\r\nab\r\n0\r\n\r\n",             // empty size
	} {
		r := newReader("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + in)
		if err := r.ReadHead(); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := r.ReadBody(maxResponseSize); err == nil || !r.Req.Close {
			t.Errorf("%q: err %v close %v, want an error that closes", in, err, r.Req.Close)
		}
	}
}

// FuzzReadRequest reads requests from arbitrary bytes: no panic, and a
// body within the limit is exactly what was counted.
func FuzzReadRequest(f *testing.F) {
	f.Add([]byte("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nA: b\r\n\r\nGET / HTTP/1.0\r\n\r\n"))
	f.Add([]byte("POST /r HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), 64)
		for range 8 {
			if err := r.ReadHead(); err != nil {
				return
			}
			body, size, large, err := r.ReadBody(16)
			if err != nil {
				return
			}
			if !large && int64(len(body)) != size {
				t.Fatalf("body %d bytes, size %d", len(body), size)
			}
			if large && body != nil {
				t.Fatal("body kept beyond the limit")
			}
			if !r.DiscardBody(1 << 10) {
				return
			}
		}
	})
}
