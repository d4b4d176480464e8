package lambdaadapter

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestValidUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
		want bool
	}{
		{"ascii", "GET /a?b=c HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\n", true},
		{"utf-8 everywhere", "POST /\xce\xbb HTTP/1.1\r\nHost: h\r\nX: lambda-\xce\xbb\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n\xce\xbb", true},
		{"header value", "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xe9\r\n\r\n", false},
		{"path", "GET /caf\xe9 HTTP/1.1\r\nHost: h\r\n\r\n", false},
		{"text body", "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\ncaf\xe9", false},
		{"json body with charset", "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: Application/JSON; charset=latin1\r\nContent-Length: 4\r\n\r\ncaf\xe9", false},
		{"binary body", "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\ncaf\xe9", true},
		{"no content type", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\ncaf\xe9", true},
		{"encoded text body", "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\ncaf\xe9", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var req fasthttp.Request
			if err := req.Read(bufio.NewReader(strings.NewReader(tt.raw))); err != nil {
				t.Fatal(err)
			}
			if got := ValidUTF8(&req); got != tt.want {
				t.Errorf("ValidUTF8 = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("built in code", func(t *testing.T) {
		var req fasthttp.Request
		req.SetRequestURI("/")
		req.Header.Set("X", "caf\xe9")
		if ValidUTF8(&req) {
			t.Error("ValidUTF8 = true for an invalid header value")
		}
	})
}
