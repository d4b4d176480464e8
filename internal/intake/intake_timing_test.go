package intake

import (
	"net"
	"testing"
)

// BenchmarkPeerGone: the cost of asking whether a client hung up, once per
// forwarded request (one getsockopt on Linux).
func BenchmarkPeerGone(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	server, err := Listen(ln).Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer server.Close()
	b.ReportAllocs()
	for b.Loop() {
		if PeerGone(server) {
			b.Fatal("gone")
		}
	}
}
