//go:build !race

package async

import (
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// TestAppendEventAllocs: encoding into a buffer with room allocates nothing.
func TestAppendEventAllocs(t *testing.T) {
	now := time.Now()
	ev := &event{RequestID: executor.NewRequestID(), Function: "fn", FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:fn",
		Enqueued: now, Next: now, Payload: benchPayload}
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = appendEvent(buf[:0], ev) }); n != 0 {
		t.Errorf("appendEvent allocs = %v, want 0", n)
	}
}
