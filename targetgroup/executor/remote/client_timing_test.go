package remote

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// BenchmarkInvoke is one remote call through the SDK (serialise, sign,
// pooled keep-alive connection, parse), against an in-memory fasthttp
// server that allocates nothing itself, so that allocs/op are the
// client's. A typical ALB event and answer.
func BenchmarkInvoke(b *testing.B) {
	for _, tt := range []struct {
		name  string
		creds *config.Credentials
	}{
		{"unsigned", nil},
		{"sigv4", &config.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			ln := fasthttputil.NewInmemoryListener()
			answer := []byte(`{"statusCode":200,"statusDescription":"200 OK","headers":{"content-type":"text/plain"},"body":"ok","isBase64Encoded":false}`)
			srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
				ctx.Response.Header.Set("X-Amzn-RequestId", "c6af9ac6-7b61-11e6-9a41-93e812345678")
				ctx.SetContentType("application/json")
				ctx.SetBody(answer)
			}}
			go srv.Serve(ln)
			defer srv.Shutdown()
			hc := NewHTTPClient()
			tr := hc.Transport.(limitedTransport).rt.(*http.Transport)
			tr.DialContext = func(context.Context, string, string) (net.Conn, error) { return ln.Dial() }
			c := NewClient(Function{Name: "fn", Target: "function", Endpoint: "http://lambda.local", Region: "us-east-1",
				Credentials: tt.creds, Timeout: 10 * time.Second}, Options{HTTPClient: hc})
			payload := []byte(benchEvent)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Invoke(context.Background(), executor.Request{Function: "fn", Payload: payload,
					TraceID: "Root=1-5759e988-bd862e3fe1be46a994272793"})
				if err != nil || len(resp.Payload) != len(answer) {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchEvent is an ALB event of a browser GET (about 1 KB).
const benchEvent = `{"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/2d2b5e1ddaf194a3"}},` +
	`"httpMethod":"GET","path":"/api/items","queryStringParameters":{"page":"2","sort":"name"},"headers":{"accept":"text/html,application/xhtml+xml",` +
	`"accept-encoding":"gzip, deflate, br","accept-language":"en-US,en;q=0.9","cookie":"session=abc123","host":"www.example.com",` +
	`"user-agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",` +
	`"x-amzn-trace-id":"Root=1-5759e988-bd862e3fe1be46a994272793","x-forwarded-for":"203.0.113.9","x-forwarded-port":"80","x-forwarded-proto":"http"},` +
	`"body":"","isBase64Encoded":false}`
