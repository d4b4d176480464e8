package intake

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestBareLF: a header block ending with a bare LF is answered 400 at
// once, where fasthttp alone waits for its read timeout; CRLF requests,
// bare LFs inside a CRLF-terminated block and blank lines in bodies are
// served.
func TestBareLF(t *testing.T) {
	addr := testServer(t, bodyHandler(nil, 1<<20), nil)
	tests := []struct {
		name  string
		parts []string // written with a pause between them
		want  int
	}{
		{name: "bare LF", parts: []string{"GET / HTTP/1.1\nHost: h\n\n"}, want: 400},
		{name: "bare LF blank line after CRLF lines", parts: []string{"GET / HTTP/1.1\r\nHost: h\r\n\n"}, want: 400},
		{name: "bare LF then CRLF blank line", parts: []string{"GET / HTTP/1.1\r\nHost: h\n\r\n"}, want: 400},
		{name: "bare LF with a body", parts: []string{"POST / HTTP/1.1\nHost: h\nContent-Length: 2\n\nhi"}, want: 400},
		{name: "bare LF split", parts: []string{"GET / HTTP/1.1\nHost: h\n", "\n"}, want: 400},
		{name: "HTTP/1.0 bare LF", parts: []string{"GET / HTTP/1.0\n\n"}, want: 400},
		{name: "CRLF", parts: []string{"GET / HTTP/1.1\r\nHost: h\r\n\r\n"}, want: 200},
		{name: "CRLF split in the terminator", parts: []string{"GET / HTTP/1.1\r\nHost: h\r\n\r", "\n"}, want: 200},
		{name: "bare LF line, CRLF CRLF end", parts: []string{"GET / HTTP/1.1\nHost: h\r\n\r\n"}, want: 200},
		{name: "blank lines in a slow body", parts: []string{"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\na\n\n", "b\n\n\n"}, want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			start := time.Now()
			for i, p := range tt.parts {
				if i > 0 {
					time.Sleep(300 * time.Millisecond) // longer than the grace period
				}
				if _, err := io.WriteString(c, p); err != nil {
					t.Fatal(err)
				}
			}
			resp := readResponse(t, bufio.NewReader(c))
			if resp.StatusCode() != tt.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode(), tt.want, resp.Body())
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("answered after %s, want at once", d)
			}
		})
	}
}

// TestBareLFAfterKeepAlive: the check is back on for the next request of
// a keep-alive connection, after a body that ended with blank lines.
func TestBareLFAfterKeepAlive(t *testing.T) {
	addr := testServer(t, bodyHandler(nil, 1<<20), nil)
	c := dial(t, addr)
	br := bufio.NewReader(c)
	if _, err := c.Write(post("/", []byte("x\n\n"))); err != nil {
		t.Fatal(err)
	}
	if resp := readResponse(t, br); resp.StatusCode() != 200 {
		t.Fatalf("first: %d", resp.StatusCode())
	}
	time.Sleep(300 * time.Millisecond) // idle past the grace period: still open
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if resp := readResponse(t, br); resp.StatusCode() != 200 {
		t.Fatalf("second: %d", resp.StatusCode())
	}
	if _, err := io.WriteString(c, "GET / HTTP/1.1\nHost: h\n\n"); err != nil {
		t.Fatal(err)
	}
	if resp := readResponse(t, br); resp.StatusCode() != 400 {
		t.Fatalf("bare LF: %d", resp.StatusCode())
	}
}

// TestPeerGone: PeerGone sees a client that closed (plain and TLS) and
// does not mistake a waiting one for gone.
func TestPeerGone(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			entered := make(chan struct{}, 1)
			proceed := make(chan struct{})
			results := make(chan [2]bool, 1)
			var conf *tls.Config
			if useTLS {
				conf = testCert(t)
			}
			addr := testServer(t, func(ctx *fasthttp.RequestCtx) {
				before := PeerGone(ctx.Conn())
				entered <- struct{}{}
				<-proceed
				// The FIN has arrived by now: poll briefly for it.
				after := false
				for i := 0; i < 200 && !after; i++ {
					after = PeerGone(ctx.Conn())
					time.Sleep(5 * time.Millisecond)
				}
				results <- [2]bool{before, after}
			}, conf)
			var c net.Conn
			var err error
			if useTLS {
				c, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
			} else {
				c, err = net.Dial("tcp", addr)
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			<-entered
			c.Close()
			close(proceed)
			r := <-results
			if r[0] || !r[1] {
				t.Errorf("PeerGone before close %v, after close %v; want false, true", r[0], r[1])
			}
		})
	}
	if PeerGone(&net.TCPConn{}) {
		t.Error("PeerGone of a connection not accepted through Listen")
	}
}

// TestLinger: a client that sends a large body without waiting for
// "100 Continue" still reads the refusal, and the server keeps none of it.
func TestLinger(t *testing.T) {
	budget := NewBudget(1 << 20)
	addr := testServer(t, bodyHandler(budget, 1<<10), nil)
	for range 3 {
		c := dial(t, addr)
		body := bytes.Repeat([]byte("q"), 16<<20)
		var wg sync.WaitGroup
		wg.Go(func() {
			_, _ = fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n", len(body))
			_, _ = c.Write(body) // may fail once the server closes
		})
		resp := readResponse(t, bufio.NewReader(c))
		if resp.StatusCode() != 413 || !resp.ConnectionClose() || string(resp.Header.Server()) != "albedo" {
			t.Errorf("status %d close %v server %q, want 413, Connection: close, albedo", resp.StatusCode(), resp.ConnectionClose(), resp.Header.Server())
		}
		c.Close()
		wg.Wait()
	}
	if s := budget.Stats(); s.InUse != 0 {
		t.Errorf("budget in use %d after refusals", s.InUse)
	}
}
