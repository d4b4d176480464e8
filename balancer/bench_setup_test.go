package balancer

import (
	"context"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/lambdaadapter"
)

// nopForwarder answers 200 "ok" without recording anything.
type nopForwarder struct{}

func (nopForwarder) Forward(_ context.Context, _ *fasthttp.Request, _ lambdaadapter.Conn, resp *fasthttp.Response) error {
	resp.SetStatusCode(200)
	resp.SetBodyString("ok")
	return nil
}

// benchListener compiles a listener with ten rules using every condition
// type; the request built by benchCtx matches only the last one.
func benchListener(tb testing.TB, opts Options) *listener {
	tb.Helper()
	groups := map[string]Forwarder{"g": nopForwarder{}, "h": nopForwarder{}}
	fwd := forwardTo("g")
	rules := []config.Rule{
		{Priority: 1, Conditions: []config.Condition{{HostHeader: []string{"*.internal.example.com", "admin.example.com"}}}, Action: fwd},
		{Priority: 2, Conditions: []config.Condition{{PathPattern: []string{"/admin/*", "/internal/*"}}}, Action: fwd},
		{Priority: 3, Conditions: []config.Condition{{HTTPHeader: &config.HTTPHeaderMatch{Name: "X-Canary", Values: []string{"true", "yes"}}}}, Action: fwd},
		{Priority: 4, Conditions: []config.Condition{{HTTPRequestMethod: []string{"DELETE", "PATCH"}}}, Action: fwd},
		{Priority: 5, Conditions: []config.Condition{{QueryString: []config.QueryStringMatch{{Key: "debug", Value: "*"}}}}, Action: fwd},
		{Priority: 6, Conditions: []config.Condition{{SourceIP: []string{"10.0.0.0/8", "192.168.0.0/16"}}}, Action: fwd},
		{Priority: 7, Conditions: []config.Condition{{PathPattern: []string{"/api/v?/users/*"}}, {HTTPRequestMethod: []string{"PUT"}}}, Action: fwd},
		{Priority: 8, Conditions: []config.Condition{{HTTPHeader: &config.HTTPHeaderMatch{Name: "User-Agent", Values: []string{"*bot*", "*crawler*"}}}}, Action: fwd},
		{Priority: 9, Conditions: []config.Condition{{QueryString: []config.QueryStringMatch{{Value: "beta*"}}}}, Action: fwd},
		{Priority: 10, Conditions: []config.Condition{
			{HostHeader: []string{"*.example.com"}},
			{PathPattern: []string{"/api/v?/orders/*"}},
			{HTTPRequestMethod: []string{"GET", "POST"}},
			{QueryString: []config.QueryStringMatch{{Key: "version", Value: "v2"}}},
			{SourceIP: []string{"127.0.0.0/8"}},
		}, Action: forwardTo("h")},
	}
	b, err := New(listenerConfig(forwardTo("g"), rules...), groups, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return b.listeners[0]
}

const benchRequest = "GET /api/v2/orders/12345?page=1&version=v2&sort=desc HTTP/1.1\r\n" +
	"Host: shop.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n" +
	"Accept: application/json\r\n" +
	"X-Canary: no\r\n" +
	"X-Canary: maybe\r\n" +
	"\r\n"

func benchCtx(tb testing.TB) *fasthttp.RequestCtx {
	return newCtx(tb, benchRequest, "127.0.0.1:50000")
}
