package balancer

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
)

// freePort is a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func listenerOn(port int, def *config.Action, rules ...config.Rule) config.Listener {
	return config.Listener{Address: "127.0.0.1", Port: port, Protocol: "HTTP", DefaultAction: def, Rules: rules}
}

func reload(t *testing.T, b *Balancer, cfg *config.Config, groups map[string]Forwarder) {
	t.Helper()
	st, err := b.Stage(cfg, groups)
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	if err := st.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// TestSwapRulesUnderLoad: clients on keep-alive connections keep sending
// while the rules change; no request fails, and once Commit returned every
// new request runs the new rules.
func TestSwapRulesUnderLoad(t *testing.T) {
	_, groups := fakes("old", "new")
	port := freePort(t)
	cfg := &config.Config{Listeners: []config.Listener{listenerOn(port, forwardTo("old"))}}
	b, base := start(t, cfg, groups, Options{})
	var committed atomic.Bool
	var failures, stale, total atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &fasthttp.Client{MaxConnsPerHost: 1}
			for {
				select {
				case <-stop:
					return
				default:
				}
				after := committed.Load()
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				req.SetRequestURI(base + "/x")
				err := c.DoTimeout(req, resp, 5*time.Second)
				switch {
				case err != nil || resp.StatusCode() != 200:
					failures.Add(1)
				case after && string(resp.Body()) != "from new":
					stale.Add(1)
				}
				total.Add(1)
				fasthttp.ReleaseRequest(req)
				fasthttp.ReleaseResponse(resp)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	next := &config.Config{Listeners: []config.Listener{listenerOn(port, forwardTo("new"))}}
	reload(t, b, next, groups)
	committed.Store(true)
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failures.Load() != 0 || stale.Load() != 0 {
		t.Errorf("%d failed and %d old-rule answers after Commit, of %d requests", failures.Load(), stale.Load(), total.Load())
	}
	if total.Load() < 20 {
		t.Errorf("only %d requests ran", total.Load())
	}
}

// TestSwapAddRemoveListener: a reload adds a listener (served at once) and
// removes one: its socket refuses new connections, while the request it
// was serving is answered.
func TestSwapAddRemoveListener(t *testing.T) {
	fs, groups := fakes("a", "b")
	fs["a"].started = make(chan struct{}, 1)
	fs["a"].release = make(chan struct{})
	pa, pb := freePort(t), freePort(t)
	b, base := start(t, &config.Config{Listeners: []config.Listener{listenerOn(pa, forwardTo("a"))}}, groups, Options{})
	answered := make(chan int, 1)
	go func() {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI(base + "/slow")
		if err := (&fasthttp.Client{}).DoTimeout(req, resp, 10*time.Second); err != nil {
			answered <- -1
			return
		}
		answered <- resp.StatusCode()
	}()
	<-fs["a"].started
	reload(t, b, &config.Config{Listeners: []config.Listener{listenerOn(pb, forwardTo("b"))}}, groups)
	if got := string(do(t, "GET", "http://127.0.0.1:"+strconv.Itoa(pb)+"/", nil).Body()); got != "from b" {
		t.Errorf("new listener answered %q", got)
	}
	if _, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(pa), time.Second); err == nil {
		t.Error("the removed listener still accepts connections")
	}
	close(fs["a"].release)
	if s := <-answered; s != 200 {
		t.Errorf("the request in flight on the removed listener got %d, want 200", s)
	}
	if addrs := b.Addrs(); len(addrs) != 1 || addrs[0].(*net.TCPAddr).Port != pb {
		t.Errorf("Addrs = %v, want the new listener only", addrs)
	}
}

// TestSwapBusyPort: a reload adding an address that is taken fails at
// Stage with a ListenError naming the new config's listener; the running
// listeners are untouched.
func TestSwapBusyPort(t *testing.T) {
	_, groups := fakes("a")
	pa := freePort(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	pBusy := busy.Addr().(*net.TCPAddr).Port
	b, base := start(t, &config.Config{Listeners: []config.Listener{listenerOn(pa, forwardTo("a"))}}, groups, Options{})
	_, err = b.Stage(&config.Config{Listeners: []config.Listener{
		listenerOn(pa, forwardTo("a")), listenerOn(pBusy, forwardTo("a")),
	}}, groups)
	var le *ListenError
	if !errors.As(err, &le) || le.Index != 1 || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Stage error %v, want a ListenError for listeners[1], address in use", err)
	}
	if got := do(t, "GET", base+"/", nil).StatusCode(); got != 200 {
		t.Errorf("the running listener answered %d", got)
	}
	// A staged configuration that is discarded leaves nothing bound.
	pc := freePort(t)
	st, err := b.Stage(&config.Config{Listeners: []config.Listener{listenerOn(pc, forwardTo("a"))}}, groups)
	if err != nil {
		t.Fatal(err)
	}
	st.Discard()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(pc))
	if err != nil {
		t.Fatalf("a discarded stage kept its port: %v", err)
	}
	ln.Close()
}

// TestSwapProtocol: a kept socket switches from HTTP to HTTPS; new
// connections then speak TLS with the new certificates, and the access
// log says https.
func TestSwapProtocol(t *testing.T) {
	_, groups := fakes("a")
	port := freePort(t)
	var out syncBuffer
	b, base := start(t, &config.Config{Listeners: []config.Listener{listenerOn(port, forwardTo("a"))}}, groups, Options{AccessLog: &out})
	do(t, "GET", base+"/", nil)
	l := listenerOn(port, forwardTo("a"))
	l.Protocol = "HTTPS"
	l.Certificates = []config.Certificate{writeCert(t, t.TempDir(), "c", "swap.test")}
	reload(t, b, &config.Config{Listeners: []config.Listener{l}}, groups)
	c := &fasthttp.Client{TLSConfig: &tls.Config{ServerName: "swap.test", InsecureSkipVerify: true}}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("https://127.0.0.1:" + strconv.Itoa(port) + "/")
	if err := c.DoTimeout(req, resp, 10*time.Second); err != nil || resp.StatusCode() != 200 {
		t.Fatalf("HTTPS after the switch: %v, status %d", err, resp.StatusCode())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.Shutdown(ctx)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "http ") || !strings.HasPrefix(lines[1], "https ") ||
		!strings.Contains(lines[1], `"swap.test"`) {
		t.Errorf("access log:\n%s", out.String())
	}
}

// TestSwapAfterShutdown: Stage refuses a closed balancer.
func TestSwapAfterShutdown(t *testing.T) {
	_, groups := fakes("a")
	cfg := listenerConfig(forwardTo("a"))
	b, _ := start(t, cfg, groups, Options{})
	b.Shutdown(context.Background())
	if _, err := b.Stage(cfg, groups); !errors.Is(err, ErrClosed) {
		t.Errorf("Stage after Shutdown: %v, want ErrClosed", err)
	}
}
