package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// behaveFn is a Function running testfunctions/behave.
func behaveFn(t testing.TB, name string) Function {
	return Function{
		Name:       name,
		ARN:        "arn:aws:lambda:us-east-1:123456789012:function:" + name,
		Runtime:    "provided.al2023",
		Handler:    "bootstrap",
		Code:       exectest.Build(t, "behave"),
		MemorySize: 128,
		Timeout:    5 * time.Second,
		Reserved:   -1,
		Region:     "us-east-1",
	}
}

// noCgroups as Options.CgroupName asks newTestPool for process groups.
const noCgroups = "<none>"

var testCgroups atomic.Int64

// testCgroupName is a cgroup name of its own for every test Pool.
func testCgroupName() string {
	return "albedo-test-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(testCgroups.Add(1), 10)
}

// newTestPool returns a Pool closed at the end of the test, and its
// function log. Its environments run in cgroups when the machine allows
// (Options.CgroupName noCgroups: process groups).
func newTestPool(t testing.TB, opts Options, fns ...Function) (*Pool, *syncBuffer) {
	t.Helper()
	switch opts.CgroupName {
	case "":
		opts.CgroupName = testCgroupName()
	case noCgroups:
		opts.CgroupName = ""
	}
	flog := &syncBuffer{}
	if opts.FunctionLog == nil {
		opts.FunctionLog = flog
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p, err := New(opts, fns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.Close(ctx)
	})
	return p, flog
}

// answer is behave's success payload.
type answer struct {
	PID        int               `json:"pid"`
	Env        map[string]string `json:"env"`
	Big        string            `json:"big"`
	Echo       json.RawMessage   `json:"echo"`
	DeadlineMS int64             `json:"deadline_ms"`
	RequestID  string            `json:"request_id"`
	TraceID    string            `json:"trace_id"`
	StartNS    int64             `json:"start_ns"`
	EndNS      int64             `json:"end_ns"`
	ChildPID   int               `json:"child_pid"`
	Spawned    int               `json:"spawned"`
	SpawnError string            `json:"spawn_error"`
	GOMAXPROCS int               `json:"gomaxprocs"`
}

// invoke calls fn with a JSON event and fails the test on a Go error.
func invoke(t testing.TB, p *Pool, fn string, event string) Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	resp, err := p.Invoke(ctx, Request{Function: fn, Payload: []byte(event)})
	if err != nil {
		t.Fatalf("Invoke(%s, %s): %v", fn, event, err)
	}
	return resp
}

// mustAnswer decodes a successful behave response.
func mustAnswer(t testing.TB, resp Response) answer {
	t.Helper()
	if resp.FunctionError != "" {
		t.Fatalf("function error %s %s: %s", resp.FunctionError, resp.ErrorType, resp.Payload)
	}
	var a answer
	if err := json.Unmarshal(resp.Payload, &a); err != nil {
		t.Fatalf("payload %q: %v", resp.Payload, err)
	}
	return a
}
