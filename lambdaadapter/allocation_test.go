//go:build !race

package lambdaadapter

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// TestAllocations pins the steady state: with a reused buffer, encoding and
// decoding do not allocate.
func TestAllocations(t *testing.T) {
	req := readRequest(t, []byte(typicalRequest))
	post := postRequest(t, "application/json", jsonBody(4<<10))
	var e Encoder
	for _, multi := range []bool{false, true} {
		c := benchConn(multi)
		buf := e.AppendEvent(nil, post, c)
		if n := testing.AllocsPerRun(200, func() {
			buf = e.AppendEvent(buf[:0], req, c)
			buf = e.AppendEvent(buf[:0], post, c)
		}); n != 0 {
			t.Errorf("AppendEvent (multi=%v): %v allocs/op, want 0", multi, n)
		}
	}
	var resp fasthttp.Response
	payload := []byte(typicalResponse)
	if n := testing.AllocsPerRun(200, func() {
		resp.Reset()
		if err := DecodeResponse(payload, false, &resp); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("DecodeResponse: %v allocs/op, want 0", n)
	}
}
