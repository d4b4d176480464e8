package balancer

import (
	"bufio"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
)

// newCtx parses a raw HTTP/1.1 request into a RequestCtx whose TCP peer is
// remote ("ip:port").
func newCtx(tb testing.TB, raw, remote string) *fasthttp.RequestCtx {
	tb.Helper()
	var req fasthttp.Request
	if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		tb.Fatalf("read request: %v", err)
	}
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, net.TCPAddrFromAddrPort(netip.MustParseAddrPort(remote)), nil)
	return ctx
}

func get(target string, headers ...string) string {
	return "GET " + target + " HTTP/1.1\r\n" + strings.Join(headers, "\r\n") + "\r\n\r\n"
}

func TestConditionMatch(t *testing.T) {
	const peer = "10.1.2.3:40000"
	tests := []struct {
		name   string
		cond   config.Condition
		raw    string
		remote string
		want   bool
	}{
		// host-header
		{name: "host exact", cond: config.Condition{HostHeader: []string{"example.com"}}, raw: get("/", "Host: example.com"), want: true},
		{name: "host case-insensitive", cond: config.Condition{HostHeader: []string{"Example.COM"}}, raw: get("/", "Host: EXAMPLE.com"), want: true},
		{name: "host port stripped", cond: config.Condition{HostHeader: []string{"example.com"}}, raw: get("/", "Host: example.com:8080"), want: true},
		{name: "host wildcard needs subdomain", cond: config.Condition{HostHeader: []string{"*.example.com"}}, raw: get("/", "Host: example.com"), want: false},
		{name: "host wildcard", cond: config.Condition{HostHeader: []string{"*.example.com"}}, raw: get("/", "Host: api.example.com"), want: true},
		{name: "host values OR", cond: config.Condition{HostHeader: []string{"a.com", "b.com"}}, raw: get("/", "Host: b.com"), want: true},
		{name: "host missing", cond: config.Condition{HostHeader: []string{"a.com"}}, raw: "GET / HTTP/1.0\r\n\r\n", want: false},
		// path-pattern
		{name: "path exact", cond: config.Condition{PathPattern: []string{"/img"}}, raw: get("/img", "Host: h"), want: true},
		{name: "path case-sensitive", cond: config.Condition{PathPattern: []string{"/img"}}, raw: get("/IMG", "Host: h"), want: false},
		{name: "path ignores query", cond: config.Condition{PathPattern: []string{"/img"}}, raw: get("/img?x=1", "Host: h"), want: true},
		{name: "path wildcard", cond: config.Condition{PathPattern: []string{"/img/*"}}, raw: get("/img/a/b.png", "Host: h"), want: true},
		{name: "path question", cond: config.Condition{PathPattern: []string{"/v?/x"}}, raw: get("/v2/x", "Host: h"), want: true},
		{name: "path raw percent", cond: config.Condition{PathPattern: []string{"/a%20b"}}, raw: get("/a%20b", "Host: h"), want: true},
		{name: "path raw not decoded", cond: config.Condition{PathPattern: []string{"/a b"}}, raw: get("/a%20b", "Host: h"), want: false},
		{name: "path not cleaned", cond: config.Condition{PathPattern: []string{"/a/../b"}}, raw: get("/a/../b", "Host: h"), want: true},
		{name: "path absolute-form", cond: config.Condition{PathPattern: []string{"/p"}}, raw: get("http://h/p?q", "Host: h"), want: true},
		// http-header
		{name: "header value fold", cond: config.Condition{HTTPHeader: &config.HTTPHeaderMatch{Name: "user-agent", Values: []string{"*MOBILE*"}}}, raw: get("/", "Host: h", "User-Agent: x Mobile y"), want: true},
		{name: "header name fold", cond: config.Condition{HTTPHeader: &config.HTTPHeaderMatch{Name: "X-TENANT", Values: []string{"blue"}}}, raw: get("/", "Host: h", "x-tenant: blue"), want: true},
		{name: "header second occurrence", cond: config.Condition{HTTPHeader: &config.HTTPHeaderMatch{Name: "X-Tenant", Values: []string{"green"}}}, raw: get("/", "Host: h", "X-Tenant: blue", "X-Tenant: green"), want: true},
		{name: "header comma not split", cond: config.Condition{HTTPHeader: &config.HTTPHeaderMatch{Name: "X-Tenant", Values: []string{"green"}}}, raw: get("/", "Host: h", "X-Tenant: blue, green"), want: false},
		{name: "header absent", cond: config.Condition{HTTPHeader: &config.HTTPHeaderMatch{Name: "X-Tenant", Values: []string{"*"}}}, raw: get("/", "Host: h"), want: false},
		// http-request-method
		{name: "method exact", cond: config.Condition{HTTPRequestMethod: []string{"GET", "HEAD"}}, raw: get("/", "Host: h"), want: true},
		{name: "method case-sensitive", cond: config.Condition{HTTPRequestMethod: []string{"get"}}, raw: get("/", "Host: h"), want: false},
		{name: "method custom", cond: config.Condition{HTTPRequestMethod: []string{"PURGE"}}, raw: "PURGE / HTTP/1.1\r\nHost: h\r\n\r\n", want: true},
		// query-string
		{name: "query key value", cond: config.Condition{QueryString: []config.QueryStringMatch{{Key: "version", Value: "v1"}}}, raw: get("/?a=1&version=v1", "Host: h"), want: true},
		{name: "query fold", cond: config.Condition{QueryString: []config.QueryStringMatch{{Key: "Version", Value: "V1"}}}, raw: get("/?version=v1", "Host: h"), want: true},
		{name: "query value only any key", cond: config.Condition{QueryString: []config.QueryStringMatch{{Value: "beta"}}}, raw: get("/?x=beta", "Host: h"), want: true},
		{name: "query wildcard", cond: config.Condition{QueryString: []config.QueryStringMatch{{Key: "v", Value: "*.x"}}}, raw: get("/?v=a.x", "Host: h"), want: true},
		{name: "query escaped star", cond: config.Condition{QueryString: []config.QueryStringMatch{{Key: "v", Value: `\*`}}}, raw: get("/?v=*", "Host: h"), want: true},
		{name: "query escaped star literal only", cond: config.Condition{QueryString: []config.QueryStringMatch{{Key: "v", Value: `\*`}}}, raw: get("/?v=abc", "Host: h"), want: false},
		{name: "query raw not decoded", cond: config.Condition{QueryString: []config.QueryStringMatch{{Key: "q", Value: "a%20b"}}}, raw: get("/?q=a%20b", "Host: h"), want: true},
		{name: "query plus kept", cond: config.Condition{QueryString: []config.QueryStringMatch{{Key: "q", Value: "a b"}}}, raw: get("/?q=a+b", "Host: h"), want: false},
		{name: "query repeated key any", cond: config.Condition{QueryString: []config.QueryStringMatch{{Key: "k", Value: "2"}}}, raw: get("/?k=1&k=2", "Host: h"), want: true},
		{name: "query key without equals", cond: config.Condition{QueryString: []config.QueryStringMatch{{Key: "flag", Value: "*"}}}, raw: get("/?flag", "Host: h"), want: true},
		{name: "query absent", cond: config.Condition{QueryString: []config.QueryStringMatch{{Value: "*"}}}, raw: get("/", "Host: h"), want: false},
		{name: "query pairs OR", cond: config.Condition{QueryString: []config.QueryStringMatch{{Key: "a", Value: "9"}, {Key: "b", Value: "2"}}}, raw: get("/?a=1&b=2", "Host: h"), want: true},
		// source-ip
		{name: "source ip in", cond: config.Condition{SourceIP: []string{"10.0.0.0/8"}}, raw: get("/", "Host: h"), want: true},
		{name: "source ip out", cond: config.Condition{SourceIP: []string{"192.168.0.0/16"}}, raw: get("/", "Host: h"), want: false},
		{name: "source ip ignores xff", cond: config.Condition{SourceIP: []string{"192.168.0.0/16"}}, raw: get("/", "Host: h", "X-Forwarded-For: 192.168.1.1"), want: false},
		{name: "source ip v6", cond: config.Condition{SourceIP: []string{"2001:db8::/32"}}, raw: get("/", "Host: h"), remote: "[2001:db8::1]:5000", want: true},
		{name: "source ip mapped v4", cond: config.Condition{SourceIP: []string{"10.1.2.3/32"}}, raw: get("/", "Host: h"), remote: "[::ffff:10.1.2.3]:5000", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := compileCondition(tt.cond)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			remote := tt.remote
			if remote == "" {
				remote = peer
			}
			ctx := newCtx(t, tt.raw, remote)
			var req request
			req.parse(ctx)
			if got := c.match(&req); got != tt.want {
				t.Errorf("match = %v, want %v (request %q)", got, tt.want, tt.raw)
			}
		})
	}
}

func TestCompileConditionErrors(t *testing.T) {
	tests := []struct {
		name string
		cond config.Condition
	}{
		{name: "none set", cond: config.Condition{}},
		{name: "two set", cond: config.Condition{HostHeader: []string{"a.com"}, PathPattern: []string{"/"}}},
		{name: "bad cidr", cond: config.Condition{SourceIP: []string{"10.0.0.300/8"}}},
		{name: "header without values", cond: config.Condition{HTTPHeader: &config.HTTPHeaderMatch{Name: "X"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := compileCondition(tt.cond); !errors.Is(err, ErrInvalidCondition) {
				t.Errorf("err = %v, want ErrInvalidCondition", err)
			}
		})
	}
}

func FuzzQueryCondition(f *testing.F) {
	f.Add("version", "v*", "a=1&version=v2&&x")
	f.Add("", `\*`, "k=*")
	f.Fuzz(func(t *testing.T, key, value, query string) {
		c, err := compileCondition(config.Condition{QueryString: []config.QueryStringMatch{{Key: key, Value: value}}})
		if err != nil {
			t.Fatal(err)
		}
		got := c.matchQuery([]byte(query))
		// Reference: split with strings and compare with the glob per pair.
		want := false
		for _, pair := range strings.Split(query, "&") {
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			if (key == "" || c.pairs[0].key.Match([]byte(k))) && c.pairs[0].value.Match([]byte(v)) {
				want = true
			}
		}
		if got != want {
			t.Fatalf("matchQuery(%q) with %q=%q = %v, want %v", query, key, value, got, want)
		}
	})
}
