package balancer_test

import (
	"context"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/balancer"
	"github.com/albedo-lb/albedo/config"
)

// Example builds a listener with a redirect rule and a fixed-response
// default, serves it on an ephemeral loopback port and shuts it down.
func Example() {
	cfg := &config.Config{Listeners: []config.Listener{{
		Address: "127.0.0.1",
		Port:    0, // ephemeral; see Addrs
		Rules: []config.Rule{{
			Priority:   10,
			Conditions: []config.Condition{{PathPattern: []string{"/old/*"}}},
			Action:     &config.Action{Redirect: &config.Redirect{Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301"}},
		}},
		DefaultAction: &config.Action{FixedResponse: &config.FixedResponse{StatusCode: 404, ContentType: "text/plain", MessageBody: "no route"}},
	}}}
	// Forward actions would name groups of this map (targetgroup.Group).
	b, err := balancer.New(cfg, map[string]balancer.Forwarder{}, balancer.Options{})
	if err != nil {
		panic(err)
	}
	if err := b.Start(); err != nil {
		panic(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b.Shutdown(ctx)
	}()
	addr := b.Addrs()[0].String()
	for _, path := range []string{"/old/page?x=1", "/elsewhere"} {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://" + addr + path)
		req.Header.SetHost("www.example.com")
		req.UseHostHeader = true
		if err := fasthttp.Do(req, resp); err != nil {
			panic(err)
		}
		fmt.Printf("%d %q %q\n", resp.StatusCode(), resp.Header.Peek("Location"), resp.Body())
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	}
	// Output:
	// 301 "https://www.example.com:443/old/page?x=1" "<html>\r\n<head><title>301 Moved Permanently</title></head>\r\n<body>\r\n<center><h1>301 Moved Permanently</h1></center>\r\n</body>\r\n</html>\r\n"
	// 404 "" "no route"
}
