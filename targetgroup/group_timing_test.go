package targetgroup

import (
	"bufio"
	"context"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// BenchmarkForward runs Group.Forward with an invoker that answers at
// once: encode, permission check and decode, as on the request path.
func BenchmarkForward(b *testing.B) {
	cfg := loadTestConfig(b)
	inv := &fakeInvoker{resp: executor.Response{Payload: []byte(`{"statusCode":200,"headers":{"Content-Type":"text/plain"},"body":"ok"}`)}}
	groups, err := New(cfg, Options{Invoker: inv})
	if err != nil {
		b.Fatal(err)
	}
	g := groups["api"]
	raw := "GET /items/42?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n" +
		"Cookie: session=abc123; theme=dark; lang=en; AWSALBTG=xyz\r\nX-Request: 1\r\n\r\n"
	var req fasthttp.Request
	var resp fasthttp.Response
	src := strings.NewReader(raw)
	br := bufio.NewReader(src)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		req.Reset()
		src.Reset(raw)
		br.Reset(src)
		if err := req.Read(br); err != nil {
			b.Fatal(err)
		}
		resp.Reset()
		if err := g.Forward(ctx, &req, testConn, &resp); err != nil {
			b.Fatal(err)
		}
	}
}
