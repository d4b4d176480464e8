package remote

import (
	"context"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// fakeLocal is a local pool with one function, "local".
type fakeLocal struct{ calls int }

func (l *fakeLocal) Invoke(_ context.Context, req executor.Request) (executor.Response, error) {
	l.calls++
	return executor.Response{Payload: []byte(`"local"`)}, nil
}

func (l *fakeLocal) Function(name string) (executor.Function, bool) {
	if name == "local" {
		return executor.Function{Name: "local", Reserved: -1}, true
	}
	return executor.Function{}, false
}

func (l *fakeLocal) Functions() []executor.Function {
	return []executor.Function{{Name: "local", Reserved: -1}}
}

func TestRouter(t *testing.T) {
	f := newFakeLambda(t, 200, `"remote"`)
	local := &fakeLocal{}
	remoteARN := "arn:aws:lambda:eu-west-1:111122223333:function:api:live"
	c := NewClient(Function{Name: "a-remote", ARN: remoteARN, Target: "api", Endpoint: f.URL, Region: "eu-west-1", Timeout: time.Second}, Options{})
	r := NewRouter(local, []*Client{c})

	for _, tt := range []struct{ function, want string }{{"local", `"local"`}, {"a-remote", `"remote"`}} {
		resp, err := r.Invoke(context.Background(), executor.Request{Function: tt.function, Payload: []byte(`{}`)})
		if err != nil || string(resp.Payload) != tt.want {
			t.Errorf("Invoke %s: %q, %v; want %s", tt.function, resp.Payload, err, tt.want)
		}
	}
	if local.calls != 1 {
		t.Errorf("local pool got %d calls, want 1", local.calls)
	}
	fns := r.Functions()
	if len(fns) != 2 || fns[0].Name != "a-remote" || fns[1].Name != "local" {
		t.Errorf("Functions = %+v, want a-remote and local, sorted", fns)
	}
	for _, name := range []string{"a-remote", remoteARN} {
		fn, ok := r.Function(name)
		if !ok || fn.Name != "a-remote" || fn.ARN != remoteARN || fn.Reserved != -1 || fn.Timeout != time.Second {
			t.Errorf("Function(%s) = %+v, %v", name, fn, ok)
		}
	}
	if _, ok := r.Function("nope"); ok {
		t.Error("Function(nope) found")
	}
	if !r.Remote("a-remote") || r.Remote("local") {
		t.Error("Remote is wrong")
	}
}

// TestRouterSetClients: a reload replaces the remote functions; a name
// that was remote and is no longer goes to the local pool.
func TestRouterSetClients(t *testing.T) {
	one, two := newFakeLambda(t, 200, `"one"`), newFakeLambda(t, 200, `"two"`)
	local := &fakeLocal{}
	c1 := NewClient(Function{Name: "r1", ARN: "arn:aws:lambda:us-east-1:123456789012:function:r1", Target: "r1", Endpoint: one.URL, Region: "us-east-1", Timeout: time.Second}, Options{})
	c2 := NewClient(Function{Name: "r2", ARN: "arn:aws:lambda:us-east-1:123456789012:function:r2", Target: "r2", Endpoint: two.URL, Region: "us-east-1", Timeout: time.Second}, Options{})
	r := NewRouter(local, []*Client{c1})
	r.SetClients([]*Client{c2})
	if resp, err := r.Invoke(context.Background(), executor.Request{Function: "r2", Payload: []byte(`{}`)}); err != nil || string(resp.Payload) != `"two"` {
		t.Errorf("r2 after SetClients: %q, %v", resp.Payload, err)
	}
	if r.Remote("r1") {
		t.Error("r1 is still remote")
	}
	if _, err := r.Invoke(context.Background(), executor.Request{Function: "r1", Payload: []byte(`{}`)}); err != nil || local.calls != 1 {
		t.Errorf("r1 after SetClients went to %d local calls, err %v", local.calls, err)
	}
	if fns := r.Functions(); len(fns) != 2 || fns[0].Name != "local" || fns[1].Name != "r2" {
		t.Errorf("Functions = %+v", fns)
	}
	if got := r.Clients(); len(got) != 1 || got[0] != c2 {
		t.Errorf("Clients = %v", got)
	}
}
