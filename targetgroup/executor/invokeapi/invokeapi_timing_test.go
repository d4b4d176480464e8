package invokeapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor"
)

const benchPayload = `{"path":"/hello","httpMethod":"GET","headers":{"accept":"*/*"},"body":""}`

// benchInvoke measures the API layer of a synchronous Invoke: routing,
// name resolution, checks, the executor.Request and the response headers
// (fake invoker echoing the payload; no network).
func benchInvoke(b *testing.B, api *API, prepare func(*fasthttp.Request)) {
	var ctx fasthttp.RequestCtx
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI("/2015-03-31/functions/echo/invocations")
		ctx.Request.Header.SetHost("127.0.0.1:9001")
		ctx.Request.SetBodyString(benchPayload)
		if prepare != nil {
			prepare(&ctx.Request)
		}
		api.Handle(&ctx)
		if ctx.Response.StatusCode() != 200 {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}

func BenchmarkInvokeSync(b *testing.B) {
	api, err := New(Options{Invoker: echoInvoker{newFakeInvoker("echo")}})
	if err != nil {
		b.Fatal(err)
	}
	benchInvoke(b, api, nil)
}

func BenchmarkInvokeSyncSigned(b *testing.B) {
	api, err := New(Options{Invoker: echoInvoker{newFakeInvoker("echo")},
		Credentials: &config.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}})
	if err != nil {
		b.Fatal(err)
	}
	// Sign once; the same headers are replayed on every iteration.
	r, _ := http.NewRequest("POST", "http://127.0.0.1:9001/2015-03-31/functions/echo/invocations", strings.NewReader(benchPayload))
	sum := sha256.Sum256([]byte(benchPayload))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		r, hex.EncodeToString(sum[:]), "lambda", testRegion, time.Now()); err != nil {
		b.Fatal(err)
	}
	auth, date := r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date")
	benchInvoke(b, api, func(req *fasthttp.Request) {
		req.Header.Set("Authorization", auth)
		req.Header.Set("X-Amz-Date", date)
	})
}

// echoInvoker is a minimal Invoker for benchmarks: it echoes and records
// nothing.
type echoInvoker struct{ *fakeInvoker }

func (e echoInvoker) Invoke(_ context.Context, req executor.Request) (executor.Response, error) {
	return executor.Response{RequestID: "11111111-2222-4333-8444-555555555555", Payload: req.Payload}, nil
}
