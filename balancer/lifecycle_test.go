package balancer

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/config"
)

// TestShutdownRightAfterStart: a Shutdown that runs while the serving
// goroutines have not yet entered fasthttp's Serve must still end them.
// fasthttp's own shutdown only closes the listeners its Serve has
// registered, so without the balancer closing its sockets first this hung
// in serveWG.Wait. The loop makes the race likely.
func TestShutdownRightAfterStart(t *testing.T) {
	_, groups := fakes("g")
	for i := range 200 {
		b, err := New(listenerConfig(forwardTo("g")), groups, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		addr := b.Addrs()[0].String()
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			done <- b.Shutdown(ctx)
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("try %d: Shutdown = %v", i, err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("try %d: Shutdown right after Start did not return within 2 s", i)
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Fatalf("try %d: %s still accepts connections after Shutdown", i, addr)
		}
	}
}

// TestStartAfterShutdown: a Balancer that was shut down never serves.
func TestStartAfterShutdown(t *testing.T) {
	_, groups := fakes("g")
	b, err := New(listenerConfig(forwardTo("g")), groups, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if err := b.Start(); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Shutdown = %v, want ErrClosed", err)
	}
	if n := len(b.Addrs()); n != 0 {
		t.Errorf("Addrs after refused Start: %d addresses", n)
	}
}

// TestListen: Listen binds every listener before anything serves, names
// each one that failed (all of them, not only the first) and leaves nothing
// bound on failure; Options.Listeners hands the sockets to the Balancer,
// which serves them and closes them at Shutdown.
func TestListen(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	two := func(p0, p1 int) *config.Config {
		cfg := listenerConfig(forwardTo("g"))
		cfg.Listeners = append(cfg.Listeners, cfg.Listeners[0])
		cfg.Listeners[0].Port, cfg.Listeners[1].Port = p0, p1
		return cfg
	}

	t.Run("busy", func(t *testing.T) {
		free, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		freePort := free.Addr().(*net.TCPAddr).Port
		free.Close()
		lns, err := Listen(two(freePort, busyPort))
		if err == nil {
			for _, ln := range lns {
				ln.Close()
			}
			t.Fatal("Listen on a busy port succeeded")
		}
		var le *ListenError
		if !errors.As(err, &le) || le.Index != 1 || le.Setting() != "listeners[1].port" {
			t.Fatalf("Listen = %v, want a *ListenError for listeners[1].port", err)
		}
		// The listener that could be bound was released again.
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort)))
		if err != nil {
			t.Fatalf("listeners[0]'s port stayed bound after the failure: %v", err)
		}
		ln.Close()
	})

	t.Run("every failure", func(t *testing.T) {
		_, err := Listen(two(busyPort, busyPort))
		var n int
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var le *ListenError
			if errors.As(e, &le) {
				n++
			}
		}
		if n != 2 {
			t.Errorf("Listen = %v, want two ListenErrors", err)
		}
	})

	t.Run("handed over", func(t *testing.T) {
		cfg := listenerConfig(forwardTo("g"))
		lns, err := Listen(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, groups := fakes("g")
		b, err := New(cfg, groups, Options{Listeners: lns})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := b.Addrs()[0].String(), lns[0].Addr().String(); got != want {
			t.Errorf("Addrs before Start = %s, want the handed-over %s", got, want)
		}
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		resp := do(t, "GET", "http://"+lns[0].Addr().String()+"/", nil)
		if resp.StatusCode() != 200 {
			t.Errorf("status %d", resp.StatusCode())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown = %v", err)
		}
		if _, err := lns[0].Accept(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("handed-over listener not closed by Shutdown: Accept = %v", err)
		}
	})

	t.Run("wrong count", func(t *testing.T) {
		_, groups := fakes("g")
		if _, err := New(listenerConfig(forwardTo("g")), groups, Options{Listeners: []net.Listener{busy, busy}}); err == nil {
			t.Error("New accepted 2 listeners for a 1-listener config")
		}
	})
}
