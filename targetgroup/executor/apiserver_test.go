package executor

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/httpwire"
)

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
	ac := newAPIConn(e, c)
	ac.r = httpwire.NewReader(c, 64) // small: lines span reads
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
			if !slices.Equal(codes, tt.codes) {
				t.Errorf("codes = %v, want %v\n%s", codes, tt.codes, out)
			}
		})
	}
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
