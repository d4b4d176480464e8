package balancer

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestGracefulShutdown: requests in flight when Shutdown starts are all
// answered; new connections are refused once it has started.
func TestGracefulShutdown(t *testing.T) {
	const inflight = 6
	fs, groups := fakes("g")
	f := fs["g"]
	f.started = make(chan struct{}, inflight)
	f.release = make(chan struct{})
	b, err := New(listenerConfig(forwardTo("g")), groups, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	addr := b.Addrs()[0].String()
	statuses := make(chan int, inflight)
	var wg sync.WaitGroup
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One client per request so each has its own connection.
			c := &fasthttp.Client{}
			req := fasthttp.AcquireRequest()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI("http://" + addr + "/")
			if err := c.DoTimeout(req, resp, 10*time.Second); err != nil {
				statuses <- -1
				return
			}
			statuses <- resp.StatusCode()
		}()
	}
	for range inflight {
		<-f.started
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- b.Shutdown(ctx)
	}()
	// Wait until the listener is closed, then let the functions answer.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting after Shutdown started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(f.release)
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Errorf("in-flight request got %d, want 200", s)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
}

// TestShutdownDeadline: when the deadline passes first, in-flight
// invocations are cancelled and Shutdown reports the deadline.
func TestShutdownDeadline(t *testing.T) {
	fs, groups := fakes("g")
	f := fs["g"]
	f.started = make(chan struct{}, 1)
	f.release = make(chan struct{}) // never closed
	b, err := New(listenerConfig(forwardTo("g")), groups, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	status := make(chan int, 1)
	go func() {
		req := fasthttp.AcquireRequest()
		resp := fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://" + b.Addrs()[0].String() + "/")
		if err := (&fasthttp.Client{}).DoTimeout(req, resp, 10*time.Second); err != nil {
			status <- -1
			return
		}
		status <- resp.StatusCode()
	}()
	<-f.started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := b.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if s := <-status; s != 502 {
		t.Errorf("cancelled request got %d, want 502", s)
	}
}

func TestServe(t *testing.T) {
	_, groups := fakes("g")
	b, err := New(listenerConfig(forwardTo("g")), groups, Options{ShutdownTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(b.Addrs()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Serve did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	resp := do(t, "GET", "http://"+b.Addrs()[0].String()+"/", nil)
	if resp.StatusCode() != 200 {
		t.Errorf("status %d", resp.StatusCode())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve = %v", err)
	}
	if err := b.Start(); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start = %v, want ErrStarted", err)
	}
}

func TestShutdownBeforeStart(t *testing.T) {
	_, groups := fakes("g")
	b, err := New(listenerConfig(forwardTo("g")), groups, Options{AccessLog: &syncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown before Start = %v", err)
	}
	if err := b.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown = %v", err)
	}
}
