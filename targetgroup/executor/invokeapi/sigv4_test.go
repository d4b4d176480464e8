package invokeapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"

	"github.com/albedo-lb/albedo/config"
)

func TestSigV4WithSDK(t *testing.T) {
	env := newTestEnv(t, withCredentials)
	endpoint := "http://" + env.addr
	tests := []struct {
		name   string
		client *lambda.Client
		ok     bool
	}{
		{"valid signature", env.client, true},
		{"wrong secret", newClient(endpoint, testKeyID, "wrong"), false},
		{"unknown key id", newClient(endpoint, "AKIDOTHER", testSecret), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A name that needs escaping in the path exercises the canonical URI.
			out, err := tt.client.Invoke(testCtx(t), &lambda.InvokeInput{
				FunctionName: aws.String("echo:$LATEST"), Payload: []byte(`{"x":"y"}`), Qualifier: aws.String("$LATEST")})
			if tt.ok {
				if err != nil || string(out.Payload) != `{"x":"y"}` {
					t.Fatalf("%v %+v", err, out)
				}
				// Other operations and methods verify too.
				if _, err := tt.client.ListFunctions(testCtx(t), &lambda.ListFunctionsInput{MaxItems: aws.Int32(2)}); err != nil {
					t.Error(err)
				}
				if _, err := tt.client.GetPolicy(testCtx(t), &lambda.GetPolicyInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:echo")}); err != nil {
					t.Error(err)
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
				t.Fatalf("got %v, want AccessDeniedException", err)
			}
		})
	}
}

func TestSigV4Raw(t *testing.T) {
	now := time.Now()
	env := newTestEnv(t, withCredentials)
	url := "http://" + env.addr + "/2015-03-31/functions/echo/invocations"
	sign := func(r *http.Request, body string, at time.Time) {
		sum := sha256.Sum256([]byte(body))
		err := v4.NewSigner().SignHTTP(context.Background(),
			aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, r, hex.EncodeToString(sum[:]), "lambda", testRegion, at)
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		build  func() *http.Request
		status int
	}{
		{"unsigned", func() *http.Request {
			r, _ := http.NewRequest("POST", url, strings.NewReader(`{}`))
			return r
		}, 403},
		{"signed", func() *http.Request {
			r, _ := http.NewRequest("POST", url, strings.NewReader(`{}`))
			sign(r, `{}`, now)
			return r
		}, 200},
		{"body changed after signing", func() *http.Request {
			r, _ := http.NewRequest("POST", url, strings.NewReader(`{"a":1}`))
			sign(r, `{"a":2}`, now)
			return r
		}, 403},
		{"signed header changed", func() *http.Request {
			r, _ := http.NewRequest("POST", url, strings.NewReader(`{}`))
			r.Header.Set("X-Amz-Invocation-Type", "DryRun")
			sign(r, `{}`, now)
			r.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
			return r
		}, 403},
		{"unsigned header added", func() *http.Request {
			r, _ := http.NewRequest("POST", url, strings.NewReader(`{}`))
			sign(r, `{}`, now)
			r.Header.Set("X-Custom", "anything")
			return r
		}, 200},
		{"unsigned x-amz header added", func() *http.Request {
			// A signed request seen on the wire must not be replayable
			// with an X-Amz-* header of the sender's choosing (here: the
			// function's log in the answer).
			r, _ := http.NewRequest("POST", url, strings.NewReader(`{}`))
			sign(r, `{}`, now)
			r.Header.Set("x-AMZ-log-type", "Tail")
			return r
		}, 403},
		{"signed x-amz headers", func() *http.Request {
			r, _ := http.NewRequest("POST", url, strings.NewReader(`{}`))
			r.Header.Set("X-Amz-Log-Type", "Tail")
			r.Header.Set("X-Amz-Client-Context", "e30=")
			sign(r, `{}`, now)
			return r
		}, 200},
		{"unsigned payload", func() *http.Request {
			// Lambda hashes every body itself (only S3 honours
			// UNSIGNED-PAYLOAD): otherwise anyone who sees such a request
			// could replay it with another payload for 15 minutes.
			r, _ := http.NewRequest("POST", url, strings.NewReader(`{"a":1}`))
			r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			err := v4.NewSigner().SignHTTP(context.Background(),
				aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, r, "UNSIGNED-PAYLOAD", "lambda", testRegion, now)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}, 403},
		{"signed content sha256 header", func() *http.Request {
			r, _ := http.NewRequest("POST", url, strings.NewReader(`{}`))
			sum := sha256.Sum256([]byte(`{}`))
			r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
			sign(r, `{}`, now)
			return r
		}, 200},
		{"expired", func() *http.Request {
			r, _ := http.NewRequest("POST", url, strings.NewReader(`{}`))
			sign(r, `{}`, now.Add(-time.Hour))
			return r
		}, 403},
		{"garbage authorization", func() *http.Request {
			r, _ := http.NewRequest("POST", url, strings.NewReader(`{}`))
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 nonsense")
			return r
		}, 403},
		{"unknown path still needs auth", func() *http.Request {
			r, _ := http.NewRequest("GET", "http://"+env.addr+"/nowhere", nil)
			return r
		}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(tt.build())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 403 && resp.Header.Get("X-Amzn-ErrorType") != "AccessDeniedException" {
				t.Errorf("error type %q", resp.Header.Get("X-Amzn-ErrorType"))
			}
		})
	}
}

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want authorization
	}{
		{in: "AWS4-HMAC-SHA256 Credential=AK/20261127/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
			ok: true, want: authorization{AccessKeyID: "AK", Date: "20261127", Region: "us-east-1", Service: "lambda",
				SignedHeaders: []string{"host", "x-amz-date"}, Signature: "abc"}},
		{in: "AWS4-HMAC-SHA256 Credential=AK/20261127/us-east-1/lambda/aws4_request,SignedHeaders=host,Signature=abc", ok: true,
			want: authorization{AccessKeyID: "AK", Date: "20261127", Region: "us-east-1", Service: "lambda",
				SignedHeaders: []string{"host"}, Signature: "abc"}},
		{in: "AWS4-HMAC-SHA1 Credential=AK/20261127/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=abc"},
		{in: "AWS4-HMAC-SHA256 Credential=AK/20261127/us-east-1/lambda, SignedHeaders=host, Signature=abc"},
		{in: "AWS4-HMAC-SHA256 Credential=AK/20261127/us-east-1/lambda/aws4_request, Signature=abc"},
		{in: "AWS4-HMAC-SHA256 Credential"},
		{in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseAuthorization(tt.in)
			if ok != tt.ok {
				t.Fatalf("ok=%v", ok)
			}
			if ok && (got.AccessKeyID != tt.want.AccessKeyID || got.Date != tt.want.Date || got.Region != tt.want.Region ||
				got.Service != tt.want.Service || got.Signature != tt.want.Signature ||
				!equalStrings(got.SignedHeaders, tt.want.SignedHeaders)) {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func TestNewRejectsEmptyCredentials(t *testing.T) {
	_, err := New(Options{Invoker: newFakeInvoker(), Credentials: &config.Credentials{AccessKeyID: "x"}})
	if !errors.Is(err, errEmptyCredentials) {
		t.Errorf("got %v", err)
	}
	if _, err := New(Options{}); !errors.Is(err, ErrNoInvoker) {
		t.Errorf("got %v", err)
	}
}
