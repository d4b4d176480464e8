package invokeapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
)

const testOpsToken = "scrape-0123456789abcdef"

func withRoutes(o *Options, _ *[]config.Function) {
	o.OpsToken = testOpsToken
	o.Routes = []Route{
		{Path: "/open", Public: true, Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("open") }},
		{Path: "/ops", Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ops") }},
	}
}

// TestRoutes: the extra read-only routes beside the API. A public one is
// open to any Host; the others are admitted as the API is (the DNS-rebinding
// Host check without credentials, a signature with them) or by the ops
// token from anywhere; only GET and HEAD are served.
func TestRoutes(t *testing.T) {
	open := newTestEnv(t, withRoutes)
	locked := newTestEnv(t, withRoutes, withCredentials)
	sign := func(r *http.Request) {
		sum := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
			r, hex.EncodeToString(sum[:]), "lambda", testRegion, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		env    *testEnv
		method string
		path   string
		host   string
		header map[string]string
		signed bool
		want   int
		body   string
	}{
		{name: "public, any host", env: open, path: "/open", host: "attacker.example", want: 200, body: "open"},
		{name: "public, with credentials", env: locked, path: "/open", host: "prometheus.internal:9001", want: 200, body: "open"},
		{name: "public HEAD", env: open, method: "HEAD", path: "/open", want: 200},
		{name: "ops, loopback host", env: open, path: "/ops", want: 200, body: "ops"},
		{name: "ops, rebinding host", env: open, path: "/ops", host: "attacker.example", want: 403},
		{name: "ops, browser", env: open, path: "/ops", header: map[string]string{"Origin": "http://attacker.example"}, want: 403},
		{name: "ops, token from any host", env: open, path: "/ops", host: "10.0.0.7:9001", header: map[string]string{"Authorization": "Bearer " + testOpsToken}, want: 200, body: "ops"},
		{name: "ops, wrong token", env: open, path: "/ops", host: "10.0.0.7:9001", header: map[string]string{"Authorization": "Bearer " + testOpsToken + "x"}, want: 403},
		{name: "ops, credentials, unsigned", env: locked, path: "/ops", want: 403},
		{name: "ops, credentials, token", env: locked, path: "/ops", host: "10.0.0.7:9001", header: map[string]string{"Authorization": "bearer " + testOpsToken}, want: 200, body: "ops"},
		{name: "ops, credentials, signed", env: locked, path: "/ops", signed: true, want: 200, body: "ops"},
		{name: "POST refused", env: open, method: "POST", path: "/open", want: 405},
		{name: "DELETE refused even with the token", env: open, method: "DELETE", path: "/ops", header: map[string]string{"Authorization": "Bearer " + testOpsToken}, want: 405},
		{name: "token opens no API operation", env: locked, path: "/2015-03-31/functions/", header: map[string]string{"Authorization": "Bearer " + testOpsToken}, want: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			r, _ := http.NewRequest(method, "http://"+tt.env.addr+tt.path, nil)
			if tt.host != "" {
				r.Host = tt.host
			}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if tt.signed {
				sign(r)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want || (tt.body != "" && string(body) != tt.body) {
				t.Fatalf("%s %s: %d %q, want %d %q", method, tt.path, resp.StatusCode, body, tt.want, tt.body)
			}
			if tt.want == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("405 without Allow: GET, HEAD: %v", resp.Header)
			}
		})
	}
}
