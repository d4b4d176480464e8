package balancer

import (
	"errors"
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

// TestResponseBytesGolden pins the exact bytes (minus Date) of the
// responses albedo writes itself: redirects, fixed responses and error
// pages. Regenerate with: go test ./balancer -run Golden -update
func TestResponseBytesGolden(t *testing.T) {
	fs, groups := fakes("g")
	fs["g"].err = errors.New("boom")
	cfg := listenerConfig(forwardTo("g"),
		config.Rule{Priority: 1, Conditions: []config.Condition{{PathPattern: []string{"/to-https/*"}}},
			Action: &config.Action{Redirect: &config.Redirect{Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301"}}},
		config.Rule{Priority: 2, Conditions: []config.Condition{{PathPattern: []string{"/moved"}}},
			Action: &config.Action{Redirect: &config.Redirect{Host: "new.#{host}", Path: "/v2/#{path}", Port: "8443", Query: "from=#{host}&#{query}", StatusCode: "HTTP_302"}}},
		config.Rule{Priority: 3, Conditions: []config.Condition{{PathPattern: []string{"/fixed"}}},
			Action: &config.Action{FixedResponse: &config.FixedResponse{StatusCode: 404, ContentType: "text/plain", MessageBody: "not here"}}},
		config.Rule{Priority: 4, Conditions: []config.Condition{{PathPattern: []string{"/fixed-empty"}}},
			Action: &config.Action{FixedResponse: &config.FixedResponse{StatusCode: 204}}},
	)
	b, _ := start(t, cfg, groups, Options{})
	addr := b.Addrs()[0].String()
	tests := []struct {
		golden string
		raw    string
	}{
		{"redirect-301-https.http", "GET /to-https/a%20b?x=1&y HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n"},
		{"redirect-302-templates.http", "GET /moved?q=a+b HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"},
		{"fixed-404.http", "GET /fixed HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{"fixed-204-empty.http", "GET /fixed-empty HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{"error-502.http", "GET /function HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{"error-405-trace.http", "TRACE / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{"error-405-connect.http", "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\nConnection: close\r\n\r\n"},
		{"error-463-forwarded-for.http", "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nX-Forwarded-For: " + strings.Repeat("10.0.0.1, ", 30) + "10.0.0.1\r\n\r\n"},
		{"error-400-websocket.http", "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			checkGolden(t, tt.golden, rawExchange(t, addr, tt.raw))
		})
	}
}
