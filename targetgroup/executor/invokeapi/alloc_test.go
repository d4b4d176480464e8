//go:build !race

package invokeapi

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// TestInvokeAllocs pins the API layer's allocations for a synchronous
// Invoke (request id, owned payload copy): a regression guard.
func TestInvokeAllocs(t *testing.T) {
	api, err := New(Options{Invoker: echoInvoker{newFakeInvoker("echo")}})
	if err != nil {
		t.Fatal(err)
	}
	var ctx fasthttp.RequestCtx
	allocs := testing.AllocsPerRun(200, func() {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI("/2015-03-31/functions/echo/invocations")
		ctx.Request.Header.SetHost("localhost")
		ctx.Request.SetBodyString(benchPayload)
		api.Handle(&ctx)
	})
	if ctx.Response.StatusCode() != 200 {
		t.Fatalf("status %d", ctx.Response.StatusCode())
	}
	if allocs > 3 {
		t.Errorf("%v allocs per Invoke, want <= 3", allocs)
	}
}
