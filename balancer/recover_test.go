package balancer

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/lambdaadapter"
)

// panicWriter stands for an access-log sink that panics.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("access log on fire") }

// TestRecoverEverywhere: fasthttp recovers nothing, so a panic in any of
// the listener's hooks (the handler and its deferred access-log write, the
// ErrorHandler, the ExpectHandler) must become a 500 and leave the server
// serving. The access log is made to panic on every line: its buffer is
// smaller than a line, so each write reaches the writer at once.
func TestRecoverEverywhere(t *testing.T) {
	fs, groups := fakes("g")
	b, err := New(listenerConfig(forwardTo("g")), groups, Options{AccessLog: panicWriter{}})
	if err != nil {
		t.Fatal(err)
	}
	b.alog.Load().w = bufio.NewWriterSize(panicWriter{}, 16)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b.Shutdown(ctx)
	})
	addr := b.Addrs()[0].String()
	tests := []struct {
		name string
		raw  string
	}{
		{name: "handler", raw: "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{name: "error handler", raw: "GET / HTTP/1.1\r\nHost: h\r\nBad Header\r\n\r\n"},
		{name: "expect handler", raw: fmt.Sprintf("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", lambdaadapter.MaxRequestBodySize+1)},
		{name: "handler again", raw: "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := rawExchange(t, addr, tt.raw)
			if !bytes.HasPrefix(out, []byte("HTTP/1.1 500 ")) || !bytes.Contains(out, page(500)) {
				t.Errorf("got %q, want albedo's 500", out)
			}
		})
	}
	if n := fs["g"].calls.Load(); n != 2 {
		t.Errorf("function invoked %d times, want 2", n)
	}
}
