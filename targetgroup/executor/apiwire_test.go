package executor

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func newReader(s string) *apiReader {
	return &apiReader{br: bufio.NewReaderSize(strings.NewReader(s), 16)}
}

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
		{name: "bad request line", in: "GET /\r\n\r\n", wantErr: errBadRequest},
		{name: "bad proto", in: "GET / HTTP/2.0\r\n\r\n", wantErr: errBadRequest},
		{name: "bad length", in: "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", wantErr: errBadRequest},
		{name: "conflicting lengths", in: "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", wantErr: errBadRequest},
		{name: "gzip", in: "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", wantErr: errUnsupportedTE},
		{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : x\r\n\r\n", wantErr: errBadRequest},
		{name: "truncated head", in: "GET / HTTP/1.1\r\nHost: x\r\n", wantErr: io.ErrUnexpectedEOF},
		{name: "eof", in: "", wantErr: io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newReader(tt.in)
			err := r.readHead()
			if err != tt.wantErr {
				t.Fatalf("readHead = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if string(r.req.path) != tt.wantPath || r.req.expect != tt.wantExpect || r.req.errorType != tt.wantErrType {
				t.Errorf("head = path %q expect %v errorType %q", r.req.path, r.req.expect, r.req.errorType)
			}
			limit := tt.limit
			if limit == 0 {
				limit = MaxResponseSize
			}
			body, size, large, err := r.readBody(limit)
			if err != nil {
				t.Fatalf("readBody: %v", err)
			}
			if string(body) != tt.wantBody || size != tt.wantSize || large != tt.wantLarge {
				t.Errorf("body = %q size %d large %v", body, size, large)
			}
			if r.req.close != tt.wantClose {
				t.Errorf("close = %v", r.req.close)
			}
			if got := [2]string{r.req.trailerErrType, r.req.trailerErrBody}; got != tt.wantTrailer {
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
		if err := r.readHead(); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := r.readBody(MaxResponseSize); err == nil || !r.req.close {
			t.Errorf("%q: err %v close %v, want an error that closes", in, err, r.req.close)
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
		r := &apiReader{br: bufio.NewReaderSize(bytes.NewReader(data), 64)}
		for range 8 {
			if err := r.readHead(); err != nil {
				return
			}
			body, size, large, err := r.readBody(16)
			if err != nil {
				return
			}
			if !large && int64(len(body)) != size {
				t.Fatalf("body %d bytes, size %d", len(body), size)
			}
			if large && body != nil {
				t.Fatal("body kept beyond the limit")
			}
			if !r.discardBody(1 << 10) {
				return
			}
		}
	})
}

// fakeConn is a net.Conn reading from a fixed input and recording what is
// written.
type fakeConn struct {
	r io.Reader
	w bytes.Buffer
}

func (c *fakeConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *fakeConn) Write(p []byte) (int, error)      { return c.w.Write(p) }
func (c *fakeConn) Close() error                     { return nil }
func (c *fakeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// serveBytes runs one connection of e over in and returns the answers.
func serveBytes(e *env, in []byte) []byte {
	c := &fakeConn{r: bytes.NewReader(in)}
	ac := &apiConn{e: e, c: c}
	ac.br = bufio.NewReaderSize(c, 64)
	ac.serve()
	return c.w.Bytes()
}

func TestServeConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		codes []int
	}{
		{name: "keep-alive sequence", in: "GET /x HTTP/1.1\r\n\r\nPOST /2018-06-01/runtime/invocation/fuzz-id/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\nPOST /2018-06-01/runtime/invocation/fuzz-id/response HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
			codes: []int{404, 202, 403}},
		{name: "unread body is skipped", in: "POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /y HTTP/1.1\r\n\r\n", codes: []int{404, 404}},
		{name: "expect continue", in: "POST /2018-06-01/runtime/invocation/fuzz-id/error HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
			codes: []int{100, 202}},
		{name: "expect with a wrong id closes", in: "POST /2018-06-01/runtime/invocation/other/error HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}GET /x HTTP/1.1\r\n\r\n",
			codes: []int{400}},
		{name: "malformed", in: "GARBAGE\r\n\r\n", codes: []int{400}},
		{name: "next with a body", in: "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}GET /x HTTP/1.1\r\n\r\n", codes: []int{403, 404}},
		{name: "connection close", in: "GET /x HTTP/1.1\r\nConnection: close\r\n\r\nGET /x HTTP/1.1\r\n\r\n", codes: []int{404}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newAPIEnv(t)
			inv := newInv("fuzz-id", "{}")
			offer(e, inv)
			inv.delivered = true
			out := serveBytes(e, []byte(tt.in))
			var codes []int
			br := bufio.NewReader(bytes.NewReader(out))
			for {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					break
				}
				io.Copy(io.Discard, resp.Body)
				codes = append(codes, resp.StatusCode)
			}
			if !equalInts(codes, tt.codes) {
				t.Errorf("codes = %v, want %v\n%s", codes, tt.codes, out)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzRuntimeAPI serves arbitrary bytes on a connection of an environment
// with an invocation in flight: every answer is well-formed HTTP and none
// is 5xx.
func FuzzRuntimeAPI(f *testing.F) {
	for _, s := range []string{
		"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n",
		"POST /2018-06-01/runtime/invocation/fuzz-id/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n",
		"POST /2018-06-01/runtime/invocation/fuzz-id/error HTTP/1.1\r\nContent-Length: 20\r\n\r\n{\"errorMessage\":\"x\"}",
		"POST /2018-06-01/runtime/invocation/other/response HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
		"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: 8\r\n\r\nnot json",
		"POST /2020-01-01/extension/register HTTP/1.1\r\nLambda-Extension-Name: f\r\nContent-Length: 23\r\n\r\n{\"events\":[\"SHUTDOWN\"]}",
		"GET /2020-01-01/extension/event/next HTTP/1.1\r\n\r\n",
		"DELETE /2018-06-01/runtime/invocation/fuzz-id/response HTTP/1.1\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e := newAPIEnv(t)
		e.extShutdown = true
		close(e.stopping) // event/next answers at once
		inv := newInv("fuzz-id", "{}")
		offer(e, inv)
		out := serveBytes(e, data)
		br := bufio.NewReader(bytes.NewReader(out))
		for {
			if _, err := br.Peek(1); err != nil {
				return
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				{
					t.Fatalf("answer not HTTP: %v\n%q", err, out)
				}
				return
			}
			io.Copy(io.Discard, resp.Body)
			if resp.StatusCode >= 500 {
				t.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// TestParkedNext covers a /next left waiting: a runtime that hangs up is
// forgotten (the invocation is not handed to a dead connection), and an
// HTTP/1.0 /next gets its answer, then the connection closes.
func TestParkedNext(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	addr := strings.TrimPrefix(serveAPI(t, e), "http://")
	parked := func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.parked != nil
	}

	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n"))
	waitFor(t, parked)
	c.Close()
	waitFor(t, func() bool { return !parked() })
	inv := newInv("hung-up", "{}")
	inv.deadline = time.Now().Add(time.Second)
	if e.handOff(inv) {
		t.Fatal("invocation handed to a connection that hung up")
	}
	e.mu.Lock()
	e.current = nil
	e.mu.Unlock()

	c, err = net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET /2018-06-01/runtime/invocation/next HTTP/1.0\r\n\r\n"))
	waitFor(t, parked)
	inv = newInv("http10", `{"a":1}`)
	offer(e, inv)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	all, err := io.ReadAll(c) // ends when the server closes
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(all)), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !resp.Close || string(body) != `{"a":1}` || resp.Header.Get(hdrRequestID) != "http10" {
		t.Errorf("answer = %d close %v %q %q", resp.StatusCode, resp.Close, body, resp.Header.Get(hdrRequestID))
	}
}
