//go:build !race

package balancer

import (
	"bufio"
	"crypto/tls"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/internal/intake"
)

// TestZeroAllocsAccessLogTLS: the access-log line of an HTTPS request
// (cipher, protocol, SNI, certificate ARN) allocates nothing.
func TestZeroAllocsAccessLogTLS(t *testing.T) {
	tlsDir := filepath.Join("..", "testdata", "config", "tls")
	certs := []config.Certificate{
		{CertificateFile: filepath.Join(tlsDir, "site.pem"), PrivateKeyFile: filepath.Join(tlsDir, "site-key.pem")},
		{CertificateFile: filepath.Join(tlsDir, "api.pem"), PrivateKeyFile: filepath.Join(tlsDir, "api-key.pem")},
	}
	cfg := &config.Config{Region: "us-east-1", AccountID: "123456789012", Listeners: []config.Listener{
		{Address: "127.0.0.1", Protocol: "HTTPS", Certificates: certs, DefaultAction: forwardTo("g")},
	}}
	b, err := New(cfg, map[string]Forwarder{"g": nopForwarder{}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := b.listeners[0]
	// A real handshake over a pipe, the server side wrapped as the
	// listener wraps accepted connections.
	cs, ss := net.Pipe()
	defer cs.Close()
	defer ss.Close()
	server := tls.Server(ss, l.tls)
	client := tls.Client(cs, &tls.Config{ServerName: "api.example.com", InsecureSkipVerify: true})
	done := make(chan error, 1)
	go func() { done <- client.Handshake() }()
	if err := server.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ln := intake.Listen(&oneConnListener{c: server})
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	ctx := &fasthttp.RequestCtx{}
	ctx.Init2(conn, nil, false)
	if err := ctx.Request.Read(bufio.NewReader(strings.NewReader(benchRequest))); err != nil {
		t.Fatal(err)
	}
	e := logEntry{rule: 10, action: "forward", groupARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/g/0123456789abcdef", targetStatus: 200}
	line := make([]byte, 0, 4096)
	now := time.Now()
	line = appendLogLine(line[:0], "app/albedo/0123456789abcdef", l, ctx, &e, now)
	if !strings.Contains(string(line), `"api.example.com" "arn:aws:acm:us-east-1:123456789012:certificate/`) {
		t.Fatalf("line lacks the SNI and certificate: %s", line)
	}
	if n := testing.AllocsPerRun(200, func() {
		line = appendLogLine(line[:0], "app/albedo/0123456789abcdef", l, ctx, &e, now)
	}); n != 0 {
		t.Errorf("%.1f allocs per HTTPS access-log line, want 0", n)
	}
}

// oneConnListener accepts c once.
type oneConnListener struct {
	net.Listener
	c net.Conn
}

func (o *oneConnListener) Accept() (net.Conn, error) { return o.c, nil }
