package invokeapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"

	"github.com/albedo-lb/albedo/config"
)

func withAddress(addr string) envOption {
	return func(o *Options, _ *[]config.Function) { o.Address = addr }
}

// TestHostChecked: without credentials, only requests for a loopback name
// or address, or for admin.address's host, are served: a page whose DNS
// name was re-pointed at 127.0.0.1 (DNS rebinding) reaches the listener
// same-origin, without Origin, and must not read the functions'
// environments.
func TestHostChecked(t *testing.T) {
	env := newTestEnv(t, withAddress("albedo.internal:9001"))
	port := env.addr[strings.LastIndexByte(env.addr, ':'):]
	tests := []struct {
		host string
		want int
	}{
		{"127.0.0.1" + port, 200},
		{"127.0.0.1", 200},
		{"127.9.8.7:80", 200},
		{"localhost" + port, 200},
		{"LocalHost", 200},
		{"[::1]" + port, 200},
		{"[::1]", 200},
		{"[::ffff:127.0.0.1]:1", 200},
		{"albedo.internal:9001", 200},
		{"ALBEDO.internal", 200},
		{"attacker.example" + port, 403},
		{"attacker.example", 403},
		{"localhost.attacker.example", 403},
		{"127.0.0.1.attacker.example", 403},
		{"10.0.0.1" + port, 403},
		{"0.0.0.0" + port, 403},
		{"[::1", 400}, // fasthttp refuses it
		{"[::1]x", 400},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "http://"+env.addr+"/2015-03-31/functions/", nil)
			r.Host = tt.host
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.want == 403 {
				var e struct{ Type, Message string }
				if resp.Header.Get("X-Amzn-ErrorType") != "AccessDeniedException" || json.Unmarshal(body, &e) != nil ||
					e.Type != "User" || !strings.Contains(e.Message, "loopback") {
					t.Errorf("error %q %s, want AccessDeniedException in Lambda's shape", resp.Header.Get("X-Amzn-ErrorType"), body)
				}
			}
		})
	}
}

// TestHostMissing: an HTTP/1.0 request without Host is refused too.
func TestHostMissing(t *testing.T) {
	env := newTestEnv(t)
	c, err := net.Dial("tcp", env.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /2015-03-31/functions/ HTTP/1.0\r\n\r\n")
	out, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(out), "HTTP/1.0 403 ") && !strings.HasPrefix(string(out), "HTTP/1.1 403 ") {
		t.Errorf("got %q, want 403", out)
	}
}

// TestHostWithCredentials: with credentials the signature covers Host, so
// any name is served when the request is signed.
func TestHostWithCredentials(t *testing.T) {
	env := newTestEnv(t, withCredentials)
	client := lambda.New(lambda.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String("http://albedo.example:" + env.addr[strings.LastIndexByte(env.addr, ':')+1:]),
		Credentials:  env.client.Options().Credentials,
		Retryer:      aws.NopRetryer{},
		HTTPClient:   dialTo(env.addr),
	})
	if _, err := client.ListFunctions(testCtx(t), &lambda.ListFunctionsInput{}); err != nil {
		t.Fatal(err)
	}
}

// TestSigV4Scope: a signature scoped to another service or region is
// refused, even when made with the right secret (AWS SDK, signing as it
// would for s3 or eu-west-1).
func TestSigV4Scope(t *testing.T) {
	env := newTestEnv(t, withCredentials)
	tests := []struct {
		name string
		opt  func(*lambda.Options)
		want string // in the message; "" = accepted
	}{
		{"lambda in us-east-1", func(*lambda.Options) {}, ""},
		{"service s3", lambda.WithSigV4SigningName("s3"), "scoped to correct service: 'lambda'"},
		{"region eu-west-1", lambda.WithSigV4SigningRegion("eu-west-1"), "scoped to a valid region, not 'eu-west-1'"},
		{"client in eu-west-1", func(o *lambda.Options) { o.Region = "eu-west-1" }, "scoped to a valid region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.client.Invoke(testCtx(t), &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{}`)}, tt.opt)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), tt.want) {
				t.Fatalf("got %v, want AccessDeniedException %q", err, tt.want)
			}
		})
	}
	env.inv.mu.Lock()
	n := len(env.inv.reqs)
	env.inv.mu.Unlock()
	if n != 1 {
		t.Errorf("%d invocations, want 1", n)
	}
}

// dialTo is an HTTP client that connects to addr whatever the URL's host.
func dialTo(addr string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
}
