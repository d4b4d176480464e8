package async

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

func TestConfigStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := newFakeInvoker()
	inv.add("filed", -1, nil)
	inv.add("bare", -1, nil)
	fileCfg := Config{MaximumRetryAttempts: 1, MaximumEventAge: time.Hour, OnFailure: "bare"}
	opts := testOptions(t, dir)
	opts.Configs = map[string]Config{"filed": fileCfg}
	q, err := Open(opts, inv)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := q.GetConfig("filed"); !ok || !sameSettings(c, fileCfg) {
		t.Errorf("GetConfig(filed) = %+v, %v", c, ok)
	}
	if _, ok := q.GetConfig("bare"); ok {
		t.Error("GetConfig(bare) found a config")
	}
	if err := q.DeleteConfig("bare"); !errors.Is(err, ErrNoConfig) {
		t.Errorf("DeleteConfig(bare) = %v, want ErrNoConfig", err)
	}
	put := Config{MaximumRetryAttempts: 0, MaximumEventAge: 120 * time.Second, OnSuccess: "file://" + filepath.Join(dir, "x.jsonl")}
	got, err := q.PutConfig("bare", put)
	if err != nil || got.LastModified.IsZero() || !sameSettings(got, put) {
		t.Fatalf("PutConfig = %+v, %v", got, err)
	}
	if err := q.DeleteConfig("filed"); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Reopen with the same file: the API changes persist.
	q, err = Open(opts, inv)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := q.GetConfig("bare"); !ok || !sameSettings(c, put) || !c.LastModified.Equal(got.LastModified) {
		t.Errorf("after reopen GetConfig(bare) = %+v, %v", c, ok)
	}
	if _, ok := q.GetConfig("filed"); ok {
		t.Error("after reopen the deleted config is back")
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The config file changes both functions: the file wins again.
	newFile := Config{MaximumRetryAttempts: 2, MaximumEventAge: 2 * time.Hour}
	opts.Configs = map[string]Config{"filed": newFile, "bare": newFile}
	q = openQueue(t, opts, inv)
	for _, fn := range []string{"filed", "bare"} {
		if c, ok := q.GetConfig(fn); !ok || !sameSettings(c, newFile) {
			t.Errorf("after file change GetConfig(%s) = %+v, %v", fn, c, ok)
		}
	}
}

func TestPutConfigErrors(t *testing.T) {
	t.Parallel()
	inv := newFakeInvoker()
	inv.add("fn", -1, nil)
	q := openQueue(t, testOptions(t, ""), inv)
	valid := DefaultConfig()
	tests := []struct {
		name     string
		function string
		cfg      Config
		want     error
	}{
		{"unknown function", "nope", valid, executor.ErrFunctionNotFound},
		{"retries 3", "fn", Config{MaximumRetryAttempts: 3, MaximumEventAge: time.Hour}, ErrInvalidConfig},
		{"age 59s", "fn", Config{MaximumEventAge: 59 * time.Second}, ErrInvalidConfig},
		{"sqs destination", "fn", Config{MaximumEventAge: time.Hour, OnFailure: "arn:aws:sqs:us-east-1:123456789012:q"}, ErrInvalidConfig},
		{"valid", "fn", valid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := q.PutConfig(tt.function, tt.cfg); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if err := q.DeleteConfig("nope"); !errors.Is(err, executor.ErrFunctionNotFound) {
		t.Errorf("DeleteConfig(nope) = %v", err)
	}
}

// TestPutConfigAppliesToQueuedEvents: the config in force at each attempt
// decides retries and destinations.
func TestPutConfigAppliesToQueuedEvents(t *testing.T) {
	t.Parallel()
	inv := newFakeInvoker()
	inv.add("fn", -1, failing(100))
	inv.add("sink", -1, nil)
	q := openQueue(t, testOptions(t, ""), inv)
	if _, err := q.PutConfig("fn", Config{MaximumRetryAttempts: 0, MaximumEventAge: time.Hour, OnFailure: "sink"}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Enqueue(context.Background(), "fn", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "record at sink", func() bool { return len(inv.callsOf("sink")) == 1 })
	if n := len(inv.callsOf("fn")); n != 1 {
		t.Errorf("fn called %d times, want 1", n)
	}
}

// TestPutConfigFileDestinations: a file:// destination set through the API
// (PutConfig) may only name a file the config file names already or a
// .jsonl file inside the state directory; anything else would let an API
// client append to any file albedo can write (or to queue.db itself).
func TestPutConfigFileDestinations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := newFakeInvoker()
	inv.add("fn", -1, nil)
	opts := testOptions(t, dir)
	opts.Configs = map[string]Config{"fn": {MaximumRetryAttempts: 2, MaximumEventAge: time.Hour, OnFailure: "file:///var/log/albedo/failed.jsonl"}}
	q := openQueue(t, opts, inv)
	tests := []struct {
		name string
		dest string
		want error
	}{
		{"in state dir", "file://" + filepath.Join(dir, "records.jsonl"), nil},
		{"in state subdir", "file://" + filepath.Join(dir, "out", "records.jsonl"), nil},
		{"named by the config file", "file:///var/log/albedo/failed.jsonl", nil},
		{"outside state dir", "file:///tmp/x.jsonl", ErrInvalidConfig},
		{"home file", "file:///home/user/.bashrc", ErrInvalidConfig},
		{"dot-dot out of state dir", "file://" + dir + "/../escape.jsonl", ErrInvalidConfig},
		{"the queue database", "file://" + filepath.Join(dir, "queue.db"), ErrInvalidConfig},
		{"state dir prefix sibling", "file://" + dir + "x/records.jsonl", ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []Config{
				{MaximumEventAge: time.Hour, OnSuccess: tt.dest},
				{MaximumEventAge: time.Hour, OnFailure: tt.dest},
			} {
				if _, err := q.PutConfig("fn", c); !errors.Is(err, tt.want) {
					t.Errorf("PutConfig(%+v) = %v, want %v", c, err, tt.want)
				}
			}
		})
	}
}
