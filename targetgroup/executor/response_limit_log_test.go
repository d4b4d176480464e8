package executor

import (
	"log/slog"
	"strings"
	"testing"
)

// A response over 6 MB fails the invocation with the function healthy and
// a REPORT line that says nothing of it: albedo's own log says why.
func TestResponseTooLargeIsLogged(t *testing.T) {
	t.Parallel()
	var logged syncBuffer
	p, _ := newTestPool(t, Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))}, behaveFn(t, "big"))
	resp := invoke(t, p, "big", `{"big":7340032}`)
	if resp.ErrorType != ErrorTypeResponseTooLarge {
		t.Fatalf("error type %q, want %s", resp.ErrorType, ErrorTypeResponseTooLarge)
	}
	for _, want := range []string{"level=WARN", "over the 6 MB payload limit", "request_id=" + resp.RequestID, "limit_bytes=6291556"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logged.String())
		}
	}
}
