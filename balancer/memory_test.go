package balancer

import (
	"net"
	"runtime"
	"testing"
	"time"
)

// TestSilentConnectionsHoldNoReadBuffer: the read buffer is 64 KB (ALB's
// header limit), so holding one per open connection would let a client
// pin 64 KB with every connection it opens and never writes to. The
// server must not allocate it before a request arrives.
func TestSilentConnectionsHoldNoReadBuffer(t *testing.T) {
	_, groups := fakes("g")
	b, _ := start(t, listenerConfig(forwardTo("g")), groups, Options{})
	const n = 200
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := int64(ms.HeapInuse)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.DialTimeout("tcp", b.Addrs()[0].String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// Let the server accept them all: one request on a last connection
	// is answered only after the accept loop has reached it.
	resp := do(t, "GET", "http://"+b.Addrs()[0].String()+"/", nil)
	if resp.StatusCode() != 200 {
		t.Fatalf("status %d", resp.StatusCode())
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	if grown := int64(ms.HeapInuse) - before; grown > n*MaxHeaderSize/4 {
		t.Errorf("%d silent connections grew the heap by %d KiB (%d KiB each)", n, grown>>10, grown/n>>10)
	}
}
