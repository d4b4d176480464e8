package remote

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// fakeLambda is a loopback HTTP server answering Invoke calls with a
// canned answer and recording what it received.
type fakeLambda struct {
	*httptest.Server
	status   int
	header   map[string]string
	body     string
	conns    atomic.Int32
	lastReq  atomic.Pointer[http.Request]
	lastBody atomic.Pointer[[]byte]
}

func newFakeLambda(t *testing.T, status int, body string, header ...string) *fakeLambda {
	t.Helper()
	f := &fakeLambda{status: status, body: body, header: map[string]string{}}
	for i := 0; i+1 < len(header); i += 2 {
		f.header[header[i]] = header[i+1]
	}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.lastReq.Store(r)
		f.lastBody.Store(&b)
		for k, v := range f.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("X-Amzn-RequestId", "req-1")
		w.WriteHeader(f.status)
		io.WriteString(w, f.body)
	}))
	f.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.Start()
	t.Cleanup(f.Close)
	return f
}

func endpointClient(endpoint string, creds *config.Credentials, timeout time.Duration) *Client {
	return NewClient(Function{
		Name: "fn", ARN: "arn:aws:lambda:us-east-1:123456789012:function:fn", Target: "function",
		Endpoint: endpoint, Region: "us-east-1", Credentials: creds, Timeout: timeout,
	}, Options{})
}

func TestInvokeAnswers(t *testing.T) {
	tail := base64.StdEncoding.EncodeToString([]byte("START RequestId: x\n"))
	tests := []struct {
		name       string
		status     int
		body       string
		header     []string
		tail       bool
		wantErr    error
		wantReason string
		want       executor.Response
	}{
		{name: "success", status: 200, body: `{"statusCode":200}`,
			want: executor.Response{RequestID: "req-1", Payload: []byte(`{"statusCode":200}`)}},
		{name: "function error", status: 200, body: `{"errorMessage":"bad","errorType":"errorString"}`, header: []string{"X-Amz-Function-Error", "Unhandled"},
			want: executor.Response{RequestID: "req-1", FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"bad","errorType":"errorString"}`)}},
		{name: "platform timeout", status: 200, body: `{"errorMessage":"timed out","errorType":"Sandbox.Timedout"}`, header: []string{"X-Amz-Function-Error", "Unhandled"},
			want: executor.Response{RequestID: "req-1", FunctionError: "Unhandled", ErrorType: "Sandbox.Timedout", Payload: []byte(`{"errorMessage":"timed out","errorType":"Sandbox.Timedout"}`)}},
		{name: "log tail", status: 200, body: `{}`, header: []string{"X-Amz-Log-Result", tail}, tail: true,
			want: executor.Response{RequestID: "req-1", Payload: []byte(`{}`), Log: []byte("START RequestId: x\n")}},
		{name: "throttle", status: 429, body: `{"Type":"User","message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}`,
			header: []string{"X-Amzn-ErrorType", "TooManyRequestsException"}, wantErr: executor.ErrThrottled, wantReason: executor.ReasonReserved},
		{name: "throttle without reason", status: 429, body: `{"message":"Rate Exceeded."}`,
			header: []string{"X-Amzn-ErrorType", "TooManyRequestsException"}, wantErr: executor.ErrThrottled, wantReason: executor.ReasonConcurrent},
		{name: "not found", status: 404, body: `{"Type":"User","Message":"Function not found: arn"}`,
			header: []string{"X-Amzn-ErrorType", "ResourceNotFoundException"}, wantErr: executor.ErrFunctionNotFound},
		{name: "access denied", status: 403, body: `{"Type":"User","message":"The request signature we calculated does not match"}`,
			header: []string{"X-Amzn-ErrorType", "AccessDeniedException"}, wantErr: executor.ErrAccessDenied},
		{name: "unrecognized client", status: 403, body: `{"message":"The security token included in the request is invalid."}`,
			header: []string{"X-Amzn-ErrorType", "UnrecognizedClientException"}, wantErr: executor.ErrAccessDenied},
		{name: "too large", status: 413, body: `{"Type":"User","message":"Request must be smaller than 6291456 bytes"}`,
			header: []string{"X-Amzn-ErrorType", "RequestTooLargeException"}, wantErr: executor.ErrPayloadTooLarge},
		{name: "service exception", status: 500, body: `{"Type":"Service","Message":"oops"}`,
			header: []string{"X-Amzn-ErrorType", "ServiceException"}, wantErr: executor.ErrService},
		{name: "KMS failure (502)", status: 502, body: `{"Type":"User","Message":"kms"}`,
			header: []string{"X-Amzn-ErrorType", "KMSAccessDeniedException"}, wantErr: executor.ErrService},
		{name: "HTML from a proxy", status: 502, body: `<html>bad gateway</html>`, wantErr: executor.ErrService},
		{name: "unexpected 400", status: 400, body: `{"message":"x"}`,
			header: []string{"X-Amzn-ErrorType", "InvalidRequestContentException"}, wantErr: executor.ErrService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeLambda(t, tt.status, tt.body, tt.header...)
			c := endpointClient(f.URL, nil, 5*time.Second)
			resp, err := c.Invoke(context.Background(), executor.Request{Function: "fn", Payload: []byte(`{"a":1}`), TailLog: tt.tail})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				var te *executor.ThrottleError
				if tt.wantReason != "" && (!errors.As(err, &te) || te.Reason != tt.wantReason) {
					t.Errorf("throttle reason: got %+v, want %s", te, tt.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Duration = 0
			if resp.RequestID != tt.want.RequestID || !bytes.Equal(resp.Payload, tt.want.Payload) || resp.FunctionError != tt.want.FunctionError ||
				resp.ErrorType != tt.want.ErrorType || !bytes.Equal(resp.Log, tt.want.Log) {
				t.Errorf("got %+v\nwant %+v", resp, tt.want)
			}
		})
	}
}

// TestInvokeRequest checks what reaches the server: the path, the payload,
// the passed-on headers, and a SigV4 signature exactly when credentials
// are set.
func TestInvokeRequest(t *testing.T) {
	for _, creds := range []*config.Credentials{nil, {AccessKeyID: "AKID", SecretAccessKey: "secret"}} {
		f := newFakeLambda(t, 200, `{}`)
		c := endpointClient(f.URL, creds, 5*time.Second)
		_, err := c.Invoke(context.Background(), executor.Request{Function: "fn", Payload: []byte(`{"a":1}`),
			ClientContext: "e30=", TraceID: "Root=1-5759e988-bd862e3fe1be46a994272793"})
		if err != nil {
			t.Fatal(err)
		}
		r := f.lastReq.Load()
		checks := []struct{ name, got, want string }{
			{"path", r.URL.Path, "/2015-03-31/functions/function/invocations"},
			{"payload", string(*f.lastBody.Load()), `{"a":1}`},
			{"client context", r.Header.Get("X-Amz-Client-Context"), "e30="},
			{"trace", r.Header.Get("X-Amzn-Trace-Id"), "Root=1-5759e988-bd862e3fe1be46a994272793"},
		}
		for _, ck := range checks {
			if ck.got != ck.want {
				t.Errorf("%s: got %q, want %q", ck.name, ck.got, ck.want)
			}
		}
		auth := r.Header.Get("Authorization")
		switch {
		case creds == nil && auth != "":
			t.Errorf("anonymous call signed: %s", auth)
		case creds != nil && !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKID/") || creds != nil && !strings.Contains(auth, "/us-east-1/lambda/aws4_request"):
			t.Errorf("Authorization %q: want a SigV4 signature with AKID for us-east-1/lambda", auth)
		}
	}
}

// TestKeepAlive: sequential calls reuse one connection. It failed with
// about one new connection in ten calls before readOnlyBody (see
// limitedTransport).
func TestKeepAlive(t *testing.T) {
	const calls = 200
	f := newFakeLambda(t, 200, `{}`)
	c := endpointClient(f.URL, nil, 5*time.Second)
	for range calls {
		if _, err := c.Invoke(context.Background(), executor.Request{Payload: []byte(`{"a":1}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.conns.Load(); n != 1 {
		t.Errorf("%d connections for %d sequential calls, want 1", n, calls)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := endpointClient("http://"+addr, nil, 5*time.Second)
	_, err = c.Invoke(context.Background(), executor.Request{Payload: []byte(`{}`)})
	if !errors.Is(err, executor.ErrConnection) {
		t.Fatalf("error %v, want ErrConnection", err)
	}
}

// TestHangingEndpoint: a server that accepts and never answers costs the
// caller the function's timeout, and the error is DeadlineExceeded.
func TestHangingEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // held open, never answered
		}
	}()
	c := endpointClient("http://"+ln.Addr().String(), nil, 300*time.Millisecond)
	start := time.Now()
	_, err = c.Invoke(context.Background(), executor.Request{Payload: []byte(`{}`)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s; the deadline is 300ms", d)
	}
}

// TestCallerGaveUp: the caller's own cancellation is not a timeout.
func TestCallerGaveUp(t *testing.T) {
	f := newFakeLambda(t, 200, `{}`)
	c := endpointClient(f.URL, nil, 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Invoke(ctx, executor.Request{Payload: []byte(`{}`)})
	if !errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want Canceled", err)
	}
}

func TestResponseTooLarge(t *testing.T) {
	f := newFakeLambda(t, 200, `"`+strings.Repeat("x", maxResponseBody)+`"`)
	c := endpointClient(f.URL, nil, 10*time.Second)
	resp, err := c.Invoke(context.Background(), executor.Request{Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.FunctionError != "Unhandled" || resp.ErrorType != executor.ErrorTypeResponseTooLarge {
		t.Errorf("got %s/%s, want Unhandled/%s", resp.FunctionError, resp.ErrorType, executor.ErrorTypeResponseTooLarge)
	}
	// Exactly at the limit is fine.
	f2 := newFakeLambda(t, 200, `"`+strings.Repeat("x", maxResponseBody-2)+`"`)
	resp, err = endpointClient(f2.URL, nil, 10*time.Second).Invoke(context.Background(), executor.Request{Payload: []byte(`{}`)})
	if err != nil || resp.FunctionError != "" || len(resp.Payload) != maxResponseBody {
		t.Errorf("a body of exactly the limit: err %v, function error %q, %d bytes", err, resp.FunctionError, len(resp.Payload))
	}
}

// TestARNFunction: an arn function takes the SDK configuration's
// credentials and endpoint settings, signs for the ARN's region, and a
// missing identity is a denied call, not a connection failure.
func TestARNFunction(t *testing.T) {
	f := newFakeLambda(t, 200, `{}`)
	arn := "arn:aws:lambda:eu-west-1:111122223333:function:api:live"
	fn := Function{Name: "prod", ARN: arn, Target: arn, Region: "eu-west-1", Timeout: 5 * time.Second}
	good := aws.Config{BaseEndpoint: aws.String(f.URL), Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}
	c := NewClient(fn, Options{AWS: &good})
	if err := c.CheckCredentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Invoke(context.Background(), executor.Request{Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	r := f.lastReq.Load()
	if want := "/2015-03-31/functions/" + arn + "/invocations"; r.URL.Path != want {
		t.Errorf("path %s, want %s", r.URL.Path, want)
	}
	if auth := r.Header.Get("Authorization"); !strings.Contains(auth, "Credential=AKID/") || !strings.Contains(auth, "/eu-west-1/lambda/aws4_request") {
		t.Errorf("Authorization %q: want AKID's signature for eu-west-1", auth)
	}

	none := aws.Config{BaseEndpoint: aws.String(f.URL), Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no EC2 IMDS role found")
	})}
	c = NewClient(fn, Options{AWS: &none})
	if err := c.CheckCredentials(context.Background()); err == nil {
		t.Error("CheckCredentials: no error without credentials")
	}
	_, err := c.Invoke(context.Background(), executor.Request{Payload: []byte(`{}`)})
	if !errors.Is(err, executor.ErrAccessDenied) || errors.Is(err, executor.ErrConnection) {
		t.Errorf("error %v, want ErrAccessDenied only", err)
	}
}
