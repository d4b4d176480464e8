package executor

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawRuntime is a runtime's connection to the Runtime API, written by
// hand so that the test decides what goes on which connection.
type rawRuntime struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRuntime(t *testing.T, addr string) *rawRuntime {
	t.Helper()
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawRuntime{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawRuntime) send(s string) {
	r.t.Helper()
	if _, err := r.c.Write([]byte(s)); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawRuntime) next() {
	r.send("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
}

func (r *rawRuntime) respond(id, body string) {
	r.send("POST /2018-06-01/runtime/invocation/" + id + "/response HTTP/1.1\r\nHost: x\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

// answer reads one answer: its status, request id header and body.
func (r *rawRuntime) answer() (int, string, string) {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, resp.Header.Get(hdrRequestID), b.String()
}

// deliverAsync runs p.deliver for inv on a goroutine of its own.
func deliverAsync(ctx context.Context, e *env, inv *invocation) <-chan delivery {
	ch := make(chan delivery, 1)
	go func() { ch <- e.p.deliver(ctx, e, inv) }()
	return ch
}

func dormant(e *env) *apiConn {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dormant
}

// warmUp runs one invocation through a parked /next on a new connection:
// afterwards that connection is dormant.
func warmUp(t *testing.T, e *env, rt *rawRuntime) {
	t.Helper()
	rt.next()
	waitFor(t, func() bool { e.mu.Lock(); defer e.mu.Unlock(); return e.parked != nil })
	inv := newInv("warm-up", "{}")
	d := <-deliverAsync(context.Background(), e, inv)
	if d.how != handedOver {
		t.Fatalf("first invocation: %v, want handed over to the parked /next", d.how)
	}
	if code, id, _ := rt.answer(); code != 200 || id != inv.id {
		t.Fatalf("next = %d %q", code, id)
	}
	rt.respond(inv.id, `{"n":0}`)
	if code, _, _ := rt.answer(); code != 202 {
		t.Fatalf("response = %d", code)
	}
	<-inv.done
	waitFor(t, func() bool { return dormant(e) != nil })
}

// newWarmEnv returns an environment whose runtime connection rt is
// dormant after one invocation, and the Runtime API's address.
func newWarmEnv(t *testing.T) (*env, string, *rawRuntime) {
	t.Helper()
	e := newAPIEnv(t)
	addr := strings.TrimPrefix(serveAPI(t, e), "http://")
	rt := dialRuntime(t, addr)
	warmUp(t, e, rt)
	return e, addr, rt
}

// TestDormantConnection covers the warm path of handoff.go: the invoking
// goroutine reads the runtime's connection itself, and every way out of it
// keeps the Runtime API's answers.
func TestDormantConnection(t *testing.T) {
	t.Parallel()
	t.Run("next and result read by the invoker", func(t *testing.T) {
		t.Parallel()
		e, _, rt := newWarmEnv(t)
		inv := newInv("inline", `{"in":1}`)
		ch := deliverAsync(context.Background(), e, inv)
		rt.next() // after the invoker took the dormant connection, or before: either way
		if code, id, body := rt.answer(); code != 200 || id != inv.id || body != `{"in":1}` {
			t.Fatalf("next = %d %q %s", code, id, body)
		}
		rt.respond(inv.id, `{"out":1}`)
		if code, _, _ := rt.answer(); code != 202 {
			t.Fatalf("response = %d", code)
		}
		d := <-ch
		if d.how != answered || string(d.res.payload) != `{"out":1}` {
			t.Fatalf("delivery = %v %s, want answered on the invoking goroutine", d.how, d.res.payload)
		}
		if dormant(e) == nil {
			t.Error("the connection is not dormant after the result")
		}
	})
	t.Run("another request after a result is answered", func(t *testing.T) {
		t.Parallel()
		_, _, rt := newWarmEnv(t)
		rt.respond("warm-up", "{}") // answering twice, with no invocation to come
		if code, _, body := rt.answer(); code != 403 || !strings.Contains(body, "InvalidStateTransition") {
			t.Fatalf("second answer = %d %s, want 403", code, body)
		}
	})
	t.Run("runtime moves to a new connection", func(t *testing.T) {
		t.Parallel()
		e, addr, old := newWarmEnv(t)
		rt := dialRuntime(t, addr)
		rt.next()
		waitFor(t, func() bool { e.mu.Lock(); defer e.mu.Unlock(); return e.parked != nil && e.dormant == nil })
		old.c.Close()
		inv := newInv("moved", "{}")
		if d := <-deliverAsync(context.Background(), e, inv); d.how != handedOver {
			t.Fatalf("delivery = %v, want handed over to the new connection's /next", d.how)
		}
		if code, id, _ := rt.answer(); code != 200 || id != inv.id {
			t.Fatalf("next = %d %q", code, id)
		}
	})
	t.Run("result on another connection interrupts the reader", func(t *testing.T) {
		t.Parallel()
		e, addr, rt := newWarmEnv(t)
		inv := newInv("elsewhere", "{}")
		ch := deliverAsync(context.Background(), e, inv)
		rt.next()
		if code, id, _ := rt.answer(); code != 200 || id != inv.id {
			t.Fatalf("next = %d %q", code, id)
		}
		other := dialRuntime(t, addr)
		other.respond(inv.id, `{"via":"other"}`)
		if code, _, _ := other.answer(); code != 202 {
			t.Fatalf("response = %d", code)
		}
		d := <-ch
		if d.how != answered || string(d.res.payload) != `{"via":"other"}` {
			t.Fatalf("delivery = %v %s", d.how, d.res.payload)
		}
		rt.send("GET /x HTTP/1.1\r\n\r\n") // the first connection is served still
		if code, _, _ := rt.answer(); code != 404 {
			t.Fatalf("GET /x = %d, want 404", code)
		}
	})
	t.Run("context ends while the invoker reads", func(t *testing.T) {
		t.Parallel()
		e, _, rt := newWarmEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		inv := newInv("abandoned", "{}")
		ch := deliverAsync(ctx, e, inv)
		rt.next()
		if code, id, _ := rt.answer(); code != 200 || id != inv.id {
			t.Fatalf("next = %d %q", code, id)
		}
		cancel()
		if d := <-ch; d.how != handedOver {
			t.Fatalf("delivery = %v, want handed over (its answer to come)", d.how)
		}
		rt.respond(inv.id, `{"late":true}`) // read by the connection's goroutine now
		if code, _, _ := rt.answer(); code != 202 {
			t.Fatalf("response = %d", code)
		}
		if res := <-inv.done; string(res.payload) != `{"late":true}` {
			t.Fatalf("result = %s", res.payload)
		}
	})
	t.Run("extension request on the runtime connection", func(t *testing.T) {
		t.Parallel()
		e, _, rt := newWarmEnv(t)
		inv := newInv("after-extension", "{}")
		ch := deliverAsync(context.Background(), e, inv)
		// event/next may wait for SHUTDOWN: the connection's own goroutine
		// answers it (here at once: the identifier is unknown).
		rt.send("GET /2020-01-01/extension/event/next HTTP/1.1\r\nLambda-Extension-Identifier: nobody\r\n\r\n")
		if code, _, _ := rt.answer(); code != 403 {
			t.Fatalf("event/next = %d, want 403", code)
		}
		rt.next()
		if code, id, _ := rt.answer(); code != 200 || id != inv.id {
			t.Fatalf("next = %d %q", code, id)
		}
		rt.respond(inv.id, `{"ok":1}`)
		if code, _, _ := rt.answer(); code != 202 {
			t.Fatalf("response = %d", code)
		}
		if d := <-ch; d.how != answered || string(d.res.payload) != `{"ok":1}` {
			t.Fatalf("delivery = %v %s, want answered", d.how, d.res.payload)
		}
	})
}
