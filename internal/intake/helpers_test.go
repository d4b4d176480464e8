package intake

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// testServer serves handler the way albedo's servers do: through Listen,
// with a streamed body, a 1-byte prefetch, and 400 for ErrBareLF.
func testServer(t *testing.T, handler fasthttp.RequestHandler, tlsConf *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	srv := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			defer Done(ctx)
			handler(ctx)
		},
		ErrorHandler: func(ctx *fasthttp.RequestCtx, err error) {
			switch {
			case errors.Is(err, ErrBareLF):
				ctx.Error("bare LF", fasthttp.StatusBadRequest)
			default:
				ctx.Error("read error: "+err.Error(), fasthttp.StatusRequestTimeout)
			}
		},
		Name:               "albedo",
		StreamRequestBody:  true,
		MaxRequestBodySize: PrefetchSize,
		ReduceMemoryUsage:  true,
		ReadTimeout:        5 * time.Second,
		Logger:             quietLogger{},
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(Listen(ln))
	}()
	t.Cleanup(func() {
		_ = srv.Shutdown()
		_ = ln.Close()
		<-done
	})
	return addr
}

// dial opens a raw connection with a 10 s deadline.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// readResponse reads one response from br.
func readResponse(t *testing.T, br *bufio.Reader) *fasthttp.Response {
	t.Helper()
	resp := &fasthttp.Response{}
	if err := resp.Read(br); err != nil {
		t.Fatalf("read response: %v", err)
	}
	return resp
}

// post is a raw POST with a Content-Length body.
func post(path string, body []byte) []byte {
	return fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body)
}

// chunked is a raw POST with body sent as chunks of size n.
func chunked(path string, body []byte, n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", path)
	for len(body) > 0 {
		k := min(n, len(body))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", k, body[:k])
		body = body[k:]
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// testCert is the repository's test certificate.
func testCert(t *testing.T) *tls.Config {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "config", "tls")
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "site.pem"), filepath.Join(dir, "site-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}

// quietLogger drops fasthttp's own messages.
type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
