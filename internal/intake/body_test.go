package intake

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// bodyHandler reads the body within limit and budget and answers its
// length and hash, 413/503 (lingering) or 400.
func bodyHandler(budget *Budget, limit int) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		var b Body
		defer b.Release(&ctx.Request)
		err := b.Read(&ctx.Request, limit, budget)
		switch {
		case errors.Is(err, ErrTooLarge):
			ctx.SetStatusCode(fasthttp.StatusRequestEntityTooLarge)
			Linger(ctx)
		case errors.Is(err, ErrBudget):
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			Linger(ctx)
		case err != nil:
			ctx.Error(err.Error(), fasthttp.StatusBadRequest)
		default:
			body := ctx.Request.Body()
			fmt.Fprintf(ctx, "%d %x", len(body), sha256.Sum256(body))
		}
	}
}

func answer(body []byte) string {
	return fmt.Sprintf("%d %x", len(body), sha256.Sum256(body))
}

func TestBodyRead(t *testing.T) {
	const limit = 1000
	addr := testServer(t, bodyHandler(NewBudget(1<<20), limit), nil)
	big := bytes.Repeat([]byte("0123456789"), 150)
	tests := []struct {
		name       string
		raw        []byte
		wantStatus int
		wantBody   []byte // answer(wantBody) for 200
	}{
		{name: "content-length", raw: post("/", big[:10]), wantStatus: 200, wantBody: big[:10]},
		{name: "at the limit", raw: post("/", big[:limit]), wantStatus: 200, wantBody: big[:limit]},
		{name: "declared over the limit", raw: post("/", big[:limit+1]), wantStatus: 413},
		{name: "chunked", raw: chunked("/", big[:900], 128), wantStatus: 200, wantBody: big[:900]},
		{name: "chunked at the limit", raw: chunked("/", big[:limit], 7), wantStatus: 200, wantBody: big[:limit]},
		{name: "chunked over the limit", raw: chunked("/", big[:1500], 100), wantStatus: 413},
		{name: "empty", raw: post("/", nil), wantStatus: 200, wantBody: nil},
		{name: "no body", raw: []byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), wantStatus: 200, wantBody: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			if _, err := c.Write(tt.raw); err != nil {
				t.Fatal(err)
			}
			resp := readResponse(t, bufio.NewReader(c))
			if resp.StatusCode() != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode(), tt.wantStatus, resp.Body())
			}
			if tt.wantStatus == 200 && string(resp.Body()) != answer(tt.wantBody) {
				t.Errorf("body %q, want %q", resp.Body(), answer(tt.wantBody))
			}
		})
	}
}

// TestBodyKeepAlive: bodies read by Body leave the connection at the next
// request, for bodies containing blank lines too (which must not be taken
// for the end of a header block).
func TestBodyKeepAlive(t *testing.T) {
	addr := testServer(t, bodyHandler(nil, 1<<20), nil)
	c := dial(t, addr)
	br := bufio.NewReader(c)
	bodies := [][]byte{[]byte("a\n\nb"), []byte("\r\n\r\n"), bytes.Repeat([]byte("x\n\n"), 5000), []byte("end\n\n")}
	for i, body := range bodies {
		raw := post("/", body)
		if i%2 == 1 {
			raw = chunked("/", body, 1000)
		}
		if _, err := c.Write(raw); err != nil {
			t.Fatal(err)
		}
		resp := readResponse(t, br)
		if resp.StatusCode() != 200 || string(resp.Body()) != answer(body) {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode(), resp.Body())
		}
	}
	// Pipelined: two requests in one write.
	raw := append(post("/", []byte("one\n\n")), post("/", []byte("two\n\n"))...)
	if _, err := c.Write(raw); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"one\n\n", "two\n\n"} {
		if resp := readResponse(t, br); resp.StatusCode() != 200 || string(resp.Body()) != answer([]byte(want)) {
			t.Fatalf("pipelined %q: %d %q", want, resp.StatusCode(), resp.Body())
		}
	}
}

// TestBodyTruncated: a client that stops before Content-Length bytes gets
// an error, never a short body.
func TestBodyTruncated(t *testing.T) {
	addr := testServer(t, bodyHandler(nil, 1<<20), nil)
	c := dial(t, addr)
	if _, err := c.Write([]byte("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nonly ten b")); err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).CloseWrite()
	resp := readResponse(t, bufio.NewReader(c))
	if resp.StatusCode() != 400 || !bytes.Contains(resp.Body(), []byte("unexpected EOF")) {
		t.Errorf("got %d %q, want 400 unexpected EOF", resp.StatusCode(), resp.Body())
	}
}

// TestBodyMemoryFollowsBytes: a body declared large holds a buffer sized by
// what arrived (at most twice that, or 4 KB), not by its Content-Length.
func TestBodyMemoryFollowsBytes(t *testing.T) {
	budget := NewBudget(64 << 20)
	addr := testServer(t, bodyHandler(budget, 32<<20), nil)
	c := dial(t, addr)
	const declared = 30 << 20
	if _, err := fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\nab", declared); err != nil {
		t.Fatal(err)
	}
	waitInUse(t, budget, func(n int64) bool { return n > 0 })
	if n := budget.Stats().InUse; n > minBuffer {
		t.Errorf("2 bytes of a %d-byte body hold %d bytes, want <= %d", declared, n, minBuffer)
	}
	sent := 2
	chunk := bytes.Repeat([]byte("z"), 100<<10)
	for range 5 {
		if _, err := c.Write(chunk); err != nil {
			t.Fatal(err)
		}
		sent += len(chunk)
	}
	waitInUse(t, budget, func(n int64) bool { return n >= int64(sent) })
	if n := budget.Stats().InUse; n > int64(2*sent) {
		t.Errorf("%d bytes received hold %d bytes, want <= %d", sent, n, 2*sent)
	}
	c.Close()
	waitInUse(t, budget, func(n int64) bool { return n == 0 })
}

func waitInUse(t *testing.T, b *Budget, ok func(int64) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok(b.Stats().InUse) {
		if time.Now().After(deadline) {
			t.Fatalf("budget in use stays at %d", b.Stats().InUse)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBudgetRefuses: a body that would take the budget past its limit is
// refused and counted; its bytes are given back, and later bodies fit.
func TestBudgetRefuses(t *testing.T) {
	budget := NewBudget(16 << 10)
	addr := testServer(t, bodyHandler(budget, 1<<20), nil)
	// A holds the whole budget: 10 KB of 16 KB arrived, in a 16 KB buffer.
	a := dial(t, addr)
	if _, err := fmt.Fprintf(a, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%s", 16<<10, bytes.Repeat([]byte("a"), 10<<10)); err != nil {
		t.Fatal(err)
	}
	waitInUse(t, budget, func(n int64) bool { return n == 16<<10 })
	b := dial(t, addr)
	if _, err := b.Write(post("/", []byte("b"))); err != nil {
		t.Fatal(err)
	}
	if resp := readResponse(t, bufio.NewReader(b)); resp.StatusCode() != 503 {
		t.Fatalf("second body: status %d, want 503", resp.StatusCode())
	}
	if s := budget.Stats(); s.Refused != 1 || s.InUse != 16<<10 || s.Limit != 16<<10 {
		t.Errorf("stats %+v, want 1 refused, 16 KB in use", s)
	}
	if _, err := a.Write(bytes.Repeat([]byte("a"), 6<<10)); err != nil {
		t.Fatal(err)
	}
	if resp := readResponse(t, bufio.NewReader(a)); resp.StatusCode() != 200 {
		t.Fatalf("first body: status %d", resp.StatusCode())
	}
	waitInUse(t, budget, func(n int64) bool { return n == 0 })
	c := dial(t, addr)
	if _, err := c.Write(post("/", []byte("c"))); err != nil {
		t.Fatal(err)
	}
	if resp := readResponse(t, bufio.NewReader(c)); resp.StatusCode() != 200 {
		t.Fatalf("after release: status %d", resp.StatusCode())
	}
}

// TestBodyReadInMemory: a request fasthttp read whole is only checked.
func TestBodyReadInMemory(t *testing.T) {
	var req fasthttp.Request
	req.SetBodyString("hello")
	var b Body
	if err := b.Read(&req, 5, NewBudget(1)); err != nil || string(req.Body()) != "hello" {
		t.Errorf("within limit: %v %q", err, req.Body())
	}
	b.Release(&req)
	if err := b.Read(&req, 4, nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over limit: %v", err)
	}
}
