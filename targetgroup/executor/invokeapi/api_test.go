package invokeapi

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/async"
	"github.com/albedo-lb/albedo/targetgroup/executor/policy"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testKeyID   = "AKIDALBEDOTEST"
	testSecret  = "albedo-test-secret"
)

// fakeInvoker is an Invoker whose functions behave by name:
// "echo" returns the payload, "fail" returns a function error, "throttled"
// and "reserved" return throttle errors, "broken" a system error,
// "ctx" returns the client context it got.
type fakeInvoker struct {
	fns map[string]executor.Function

	mu   sync.Mutex
	reqs []executor.Request
}

func newFakeInvoker(names ...string) *fakeInvoker {
	f := &fakeInvoker{fns: map[string]executor.Function{}}
	for _, n := range names {
		f.fns[n] = executor.Function{
			Name:       n,
			ARN:        functionARN(testRegion, testAccount, n),
			Runtime:    "provided.al2023",
			Handler:    "bootstrap",
			Code:       "/srv/functions/" + n,
			MemorySize: 128,
			Timeout:    3 * time.Second,
			Reserved:   -1,
		}
	}
	return f
}

func (f *fakeInvoker) Invoke(_ context.Context, req executor.Request) (executor.Response, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if _, ok := f.fns[req.Function]; !ok {
		return executor.Response{}, executor.ErrFunctionNotFound
	}
	resp := executor.Response{RequestID: "11111111-2222-4333-8444-555555555555"}
	if req.TailLog {
		resp.Log = bytes.Repeat([]byte("x"), 5000)
		resp.Log = append(resp.Log, "END RequestId: 1\n"...)
	}
	switch req.Function {
	case "fail":
		resp.FunctionError = "Unhandled"
		resp.Payload = []byte(`{"errorMessage":"boom","errorType":"errorString"}`)
	case "throttled":
		return executor.Response{}, &executor.ThrottleError{Function: req.Function, Reason: executor.ReasonConcurrent}
	case "reserved":
		return executor.Response{}, fmtWrap(&executor.ThrottleError{Function: req.Function, Reason: executor.ReasonReserved})
	case "broken":
		return executor.Response{}, errors.New("executor: instance exploded")
	case "late": // a remote function that did not answer within its timeout
		return executor.Response{}, fmt.Errorf("remote: Invoke late: no answer before the deadline: %w", context.DeadlineExceeded)
	case "ctx":
		resp.Payload = []byte(strconv.Quote(req.ClientContext))
	default:
		resp.Payload = req.Payload
	}
	return resp, nil
}

func fmtWrap(err error) error { return errors.Join(errors.New("invoke"), err) }

func (f *fakeInvoker) Function(name string) (executor.Function, bool) {
	fn, ok := f.fns[name]
	return fn, ok
}

func (f *fakeInvoker) Functions() []executor.Function {
	out := make([]executor.Function, 0, len(f.fns))
	for _, fn := range f.fns {
		out = append(out, fn)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (f *fakeInvoker) last() executor.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reqs[len(f.reqs)-1]
}

// fakeQueue is an in-memory Queue.
type fakeQueue struct {
	mu      sync.Mutex
	events  []fakeEvent
	configs map[string]async.Config
	fail    error
}

type fakeEvent struct {
	function string
	payload  []byte
}

func newFakeQueue() *fakeQueue { return &fakeQueue{configs: map[string]async.Config{}} }

func (q *fakeQueue) Enqueue(_ context.Context, function string, payload []byte) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return "", q.fail
	}
	q.events = append(q.events, fakeEvent{function, payload})
	return "aaaaaaaa-bbbb-4ccc-8ddd-" + strconv.Itoa(100000000000+len(q.events)), nil
}

func (q *fakeQueue) GetConfig(function string) (async.Config, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	c, ok := q.configs[function]
	return c, ok
}

func (q *fakeQueue) PutConfig(function string, c async.Config) (async.Config, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(c.OnFailure) > 0 && c.OnFailure[0] == '!' {
		return async.Config{}, fmt.Errorf("destination %s is not a function or file:// URL: %w", c.OnFailure, async.ErrInvalidConfig)
	}
	q.configs[function] = c
	return c, nil
}

func (q *fakeQueue) DeleteConfig(function string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.configs, function)
	return nil
}

// testEnv is an API served on 127.0.0.1 plus an SDK client for it.
type testEnv struct {
	api    *API
	inv    *fakeInvoker
	queue  *fakeQueue
	store  *policy.Store
	addr   string
	client *lambda.Client
}

type envOption func(*Options, *[]config.Function)

func withCredentials(o *Options, _ *[]config.Function) {
	o.Credentials = &config.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
}

func withoutQueue(o *Options, _ *[]config.Function) { o.Queue = nil }

// newTestEnv starts the API over a fake invoker with functions echo, fail,
// throttled, reserved, broken, ctx and late; "echo" has an ALB statement.
func newTestEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	inv := newFakeInvoker("echo", "fail", "throttled", "reserved", "broken", "ctx", "late")
	fns := []config.Function{{Name: "echo", Policy: []config.Statement{{
		Sid: "alb", Principal: "elasticloadbalancing.amazonaws.com", Action: "lambda:InvokeFunction",
		SourceARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef",
	}}}}
	for _, n := range []string{"fail", "throttled", "reserved", "broken", "ctx", "late"} {
		fns = append(fns, config.Function{Name: n})
	}
	q := newFakeQueue()
	o := Options{Invoker: inv, Queue: q, Region: testRegion, AccountID: testAccount}
	for _, opt := range opts {
		opt(&o, &fns)
	}
	store, err := policy.Open(t.TempDir(), testRegion, testAccount, fns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	o.Policies = store
	api, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, api)
	return &testEnv{api: api, inv: inv, queue: q, store: store, addr: addr,
		client: newClient("http://"+addr, testKeyID, testSecret)}
}

// serve runs api's admin server on a loopback listener until the test
// ends.
func serve(t testing.TB, api *API) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.NewServer()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.ShutdownWithContext(ctx)
		// Shutdown before Serve registered the listener returns at once;
		// closing it ourselves makes Serve return in every order.
		_ = ln.Close()
		<-done
	})
	return ln.Addr().String()
}

// newClient is an SDK client for endpoint with static credentials and no
// retries.
func newClient(endpoint, keyID, secret string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, Source: "test"}, nil
		}),
		Retryer: aws.NopRetryer{},
	})
}

// testCtx bounds one SDK call.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// golden compares got with testdata/invokeapi/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "..", "..", "testdata", "invokeapi", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s mismatch:\n got: %s\nwant: %s", name, got, want)
	}
}

type execFunction = executor.Function

// TestBrowserRequestsRefused: without credentials, a request a browser
// sends on behalf of another site (it carries Origin) is refused: a web
// page could otherwise invoke functions, change policies or event invoke
// configs through "simple" cross-site POSTs that need no CORS preflight.
// The SDKs and the CLI never send Origin.
func TestBrowserRequestsRefused(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name, method, path, origin, body string
		status                           int
	}{
		{"invoke from a page", "POST", "/2015-03-31/functions/echo/invocations", "https://evil.example", `{}`, 403},
		{"invoke-async from a page", "POST", "/2014-11-13/functions/echo/invoke-async/", "https://evil.example", `{}`, 403},
		{"add permission from a page", "POST", "/2015-03-31/functions/echo/policy", "null",
			`{"StatementId":"x","Action":"lambda:InvokeFunction","Principal":"*"}`, 403},
		{"update event invoke config from a page", "POST", "/2019-09-25/functions/echo/event-invoke-config", "http://127.0.0.1:8080",
			`{"MaximumRetryAttempts":0}`, 403},
		{"invoke from a tool", "POST", "/2015-03-31/functions/echo/invocations", "", `{}`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(tt.method, "http://"+env.addr+tt.path, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "text/plain")
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			resp, err := http.DefaultClient.Do(r)
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
	env.inv.mu.Lock()
	n := len(env.inv.reqs)
	env.inv.mu.Unlock()
	if n != 1 {
		t.Errorf("%d invocations reached the invoker, want 1 (the tool's)", n)
	}
}
