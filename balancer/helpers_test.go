package balancer

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/lambdaadapter"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/balancer")

// received is what a fakeForwarder saw of one request.
type received struct {
	method, uri, host string
	body              []byte
	conn              lambdaadapter.Conn
	hasDeadline       bool
}

// fakeForwarder records requests and answers a canned response or error.
type fakeForwarder struct {
	name   string
	status int
	body   string
	err    error
	panicV any
	// started, when set, receives one value as each Forward begins.
	started chan struct{}
	// release, when set, blocks Forward until it is closed or ctx ends.
	release chan struct{}

	calls atomic.Int64
	mu    sync.Mutex
	last  received
}

func (f *fakeForwarder) Forward(ctx context.Context, req *fasthttp.Request, conn lambdaadapter.Conn, resp *fasthttp.Response) error {
	f.calls.Add(1)
	_, hasDeadline := ctx.Deadline()
	f.mu.Lock()
	f.last = received{
		method:      string(req.Header.Method()),
		uri:         string(req.Header.RequestURI()),
		host:        string(req.Header.Host()),
		body:        bytes.Clone(req.Body()),
		conn:        conn,
		hasDeadline: hasDeadline,
	}
	f.mu.Unlock()
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.panicV != nil {
		panic(f.panicV)
	}
	if f.err != nil {
		return f.err
	}
	status := f.status
	if status == 0 {
		status = 200
	}
	resp.SetStatusCode(status)
	resp.Header.Set("X-Group", f.name)
	resp.Header.Set("Content-Type", "text/plain")
	resp.Header.SetServer("function-says-hi")
	resp.SetBodyString(f.body)
	return nil
}

func (f *fakeForwarder) lastReceived() received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// fakes builds named fake forwarders and the groups map New takes.
func fakes(names ...string) (map[string]*fakeForwarder, map[string]Forwarder) {
	fs := make(map[string]*fakeForwarder)
	gs := make(map[string]Forwarder)
	for _, n := range names {
		f := &fakeForwarder{name: n, body: "from " + n}
		fs[n] = f
		gs[n] = f
	}
	return fs, gs
}

func forwardTo(name string) *config.Action {
	return &config.Action{Forward: &config.Forward{TargetGroups: []config.WeightedGroup{{Name: name, Weight: ptr(1)}}}}
}

func ptr[T any](v T) *T { return &v }

// listenerConfig is a one-listener config on 127.0.0.1:0.
func listenerConfig(def *config.Action, rules ...config.Rule) *config.Config {
	return &config.Config{Listeners: []config.Listener{{
		Address:       "127.0.0.1",
		Port:          0,
		Protocol:      "HTTP",
		DefaultAction: def,
		Rules:         rules,
	}}}
}

// start builds and starts a balancer, returning it and the first
// listener's base URL; it is shut down when the test ends.
func start(t *testing.T, cfg *config.Config, groups map[string]Forwarder, opts Options) (*Balancer, string) {
	t.Helper()
	b, err := New(cfg, groups, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := b.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return b, "http://" + b.Addrs()[0].String()
}

var testClient = &fasthttp.Client{
	ReadTimeout:         10 * time.Second,
	WriteTimeout:        10 * time.Second,
	MaxConnsPerHost:     64,
	MaxResponseBodySize: 4 << 20,
}

// do sends one request built by prep to url and returns the response
// (released by the test's cleanup).
func do(t *testing.T, method, url string, prep func(*fasthttp.Request)) *fasthttp.Response {
	t.Helper()
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.Header.SetMethod(method)
	req.SetRequestURI(url)
	if prep != nil {
		prep(req)
	}
	resp := fasthttp.AcquireResponse()
	t.Cleanup(func() { fasthttp.ReleaseResponse(resp) })
	if err := testClient.DoTimeout(req, resp, 10*time.Second); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp
}

// rawExchange writes raw to addr and returns every byte of the answer
// (the request should say "Connection: close").
func rawExchange(t *testing.T, addr, raw string) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read: %v", err)
	}
	return out
}

var dateLine = regexp.MustCompile(`(?m)^Date: [^\r]*\r\n`)

// checkGolden compares got (Date header removed) with
// testdata/balancer/<name>, rewriting it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	got = dateLine.ReplaceAll(got, nil)
	path := filepath.Join("..", "testdata", "balancer", name)
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
		t.Errorf("%s mismatch:\n got: %q\nwant: %q", name, got, want)
	}
}
