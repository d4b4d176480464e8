package balancer

import (
	"bytes"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
)

// TestRulesEndToEnd drives every condition type and priority ordering
// through a real server and client.
func TestRulesEndToEnd(t *testing.T) {
	fs, groups := fakes("admin", "api", "host", "method", "query", "header", "src", "nosrc", "default")
	cfg := listenerConfig(forwardTo("default"),
		// Listed out of order on purpose: evaluation follows priority.
		config.Rule{Priority: 10, Conditions: []config.Condition{{PathPattern: []string{"/api/*"}}}, Action: forwardTo("api")},
		config.Rule{Priority: 5, Conditions: []config.Condition{
			{PathPattern: []string{"/api/admin*"}},
			{HTTPHeader: &config.HTTPHeaderMatch{Name: "X-Admin", Values: []string{"yes"}}},
		}, Action: forwardTo("admin")},
		config.Rule{Priority: 20, Conditions: []config.Condition{{HostHeader: []string{"*.example.com"}}}, Action: forwardTo("host")},
		config.Rule{Priority: 30, Conditions: []config.Condition{{HTTPRequestMethod: []string{"DELETE"}}}, Action: forwardTo("method")},
		config.Rule{Priority: 40, Conditions: []config.Condition{{QueryString: []config.QueryStringMatch{{Key: "version", Value: "v2"}}}}, Action: forwardTo("query")},
		config.Rule{Priority: 45, Conditions: []config.Condition{{HTTPHeader: &config.HTTPHeaderMatch{Name: "User-Agent", Values: []string{"*mobile*"}}}}, Action: forwardTo("header")},
		config.Rule{Priority: 50, Conditions: []config.Condition{{SourceIP: []string{"10.0.0.0/8"}}, {PathPattern: []string{"/src"}}}, Action: forwardTo("nosrc")},
		config.Rule{Priority: 60, Conditions: []config.Condition{{SourceIP: []string{"127.0.0.0/8"}}, {PathPattern: []string{"/src"}}}, Action: forwardTo("src")},
		config.Rule{Priority: 70, Conditions: []config.Condition{{PathPattern: []string{"/fixed"}}}, Action: &config.Action{FixedResponse: &config.FixedResponse{StatusCode: 418, ContentType: "application/json", MessageBody: `{"teapot":true}`}}},
	)
	_, base := start(t, cfg, groups, Options{})
	tests := []struct {
		name   string
		method string
		path   string
		prep   func(*fasthttp.Request)
		want   string
	}{
		{name: "lower priority number wins", method: "GET", path: "/api/admin/x", prep: header("X-Admin", "yes"), want: "admin"},
		{name: "AND needs every condition", method: "GET", path: "/api/admin/x", want: "api"},
		{name: "path", method: "GET", path: "/api/users", want: "api"},
		{name: "host", method: "GET", path: "/h", prep: host("www.Example.com"), want: "host"},
		{name: "host exact domain not wildcard", method: "GET", path: "/h", prep: host("example.com"), want: "default"},
		{name: "method", method: "DELETE", path: "/thing", want: "method"},
		{name: "method other", method: "PUT", path: "/thing", want: "default"},
		{name: "query", method: "GET", path: "/q?a=1&VERSION=V2", want: "query"},
		{name: "query no match", method: "GET", path: "/q?version=v3", want: "default"},
		{name: "header", method: "GET", path: "/ua", prep: header("User-Agent", "Some Mobile Browser"), want: "header"},
		{name: "source ip", method: "GET", path: "/src", want: "src"},
		{name: "default", method: "GET", path: "/nothing", want: "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(t, tt.method, base+tt.path, tt.prep)
			if got := string(resp.Header.Peek("X-Group")); got != tt.want {
				t.Errorf("routed to %q, want %q (status %d)", got, tt.want, resp.StatusCode())
			}
			if got := string(resp.Header.Server()); got != serverName {
				t.Errorf("Server = %q, want %q", got, serverName)
			}
		})
	}
	if n := fs["nosrc"].calls.Load(); n != 0 {
		t.Errorf("10.0.0.0/8 rule matched a loopback client %d times", n)
	}
	t.Run("fixed response", func(t *testing.T) {
		resp := do(t, "GET", base+"/fixed", nil)
		if resp.StatusCode() != 418 || string(resp.Body()) != `{"teapot":true}` ||
			string(resp.Header.ContentType()) != "application/json; charset=utf-8" {
			t.Errorf("got %d %q %q", resp.StatusCode(), resp.Header.ContentType(), resp.Body())
		}
	})
}

func header(k, v string) func(*fasthttp.Request) {
	return func(r *fasthttp.Request) { r.Header.Set(k, v) }
}

func host(h string) func(*fasthttp.Request) {
	return func(r *fasthttp.Request) { r.UseHostHeader = true; r.Header.SetHost(h) }
}

// TestMatchPriority checks ordering directly on the compiled listener.
func TestMatchPriority(t *testing.T) {
	_, groups := fakes("g")
	fixed := func(s int) *config.Action {
		return &config.Action{FixedResponse: &config.FixedResponse{StatusCode: s}}
	}
	cfg := listenerConfig(fixed(200),
		config.Rule{Priority: 300, Conditions: []config.Condition{{PathPattern: []string{"/*"}}}, Action: fixed(300)},
		config.Rule{Priority: 2, Conditions: []config.Condition{{PathPattern: []string{"/a*"}}}, Action: fixed(202)},
		config.Rule{Priority: 50000, Conditions: []config.Condition{{PathPattern: []string{"*"}}}, Action: fixed(500)},
		config.Rule{Priority: 1, Conditions: []config.Condition{{PathPattern: []string{"/ab"}}}, Action: fixed(201)},
	)
	b, err := New(cfg, groups, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := b.listeners[0]
	tests := []struct {
		path         string
		wantPriority int
	}{
		{"/ab", 1},
		{"/abc", 2},
		{"/b", 300},
		{"/", 300},
	}
	for _, tt := range tests {
		ctx := newCtx(t, get(tt.path, "Host: h"), "127.0.0.1:1")
		var req request
		req.parse(ctx)
		if got := l.match(&req).priority; got != tt.wantPriority {
			t.Errorf("%s matched priority %d, want %d", tt.path, got, tt.wantPriority)
		}
	}
}

// TestAbsoluteFormCannotBypassRules: the path rules see the path the
// function would see, whatever scheme an absolute-form target names.
func TestAbsoluteFormCannotBypassRules(t *testing.T) {
	fs, groups := fakes("g")
	deny := config.Rule{Priority: 1, Conditions: []config.Condition{{PathPattern: []string{"/admin*"}}},
		Action: &config.Action{FixedResponse: &config.FixedResponse{StatusCode: 403}}}
	b, _ := start(t, listenerConfig(forwardTo("g"), deny), groups, Options{})
	for _, target := range []string{"/admin", "http://h/admin", "HTTP://h/admin", "ftp://h/admin", "x://h/admin/x?y"} {
		out := rawExchange(t, b.Addrs()[0].String(), "GET "+target+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		if !bytes.HasPrefix(out, []byte("HTTP/1.1 403 ")) {
			t.Errorf("GET %s: got %.40q, want the 403 of the /admin* rule", target, out)
		}
	}
	if n := fs["g"].calls.Load(); n != 0 {
		t.Errorf("function invoked %d times", n)
	}
}
