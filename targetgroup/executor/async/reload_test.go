package async

import (
	"context"
	"testing"
	"time"
)

// TestSetConfigs: a reload that keeps a function's file settings keeps its
// API change; one that changes them drops it (also after a restart), as
// Open does; a function the file no longer configures loses its file
// settings.
func TestSetConfigs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := newFakeInvoker()
	for _, n := range []string{"kept", "changed", "dropped"} {
		inv.add(n, -1, nil)
	}
	fileCfg := Config{MaximumRetryAttempts: 1, MaximumEventAge: time.Hour}
	opts := testOptions(t, dir)
	opts.Configs = map[string]Config{"kept": fileCfg, "changed": fileCfg, "dropped": fileCfg}
	q, err := Open(opts, inv)
	if err != nil {
		t.Fatal(err)
	}
	api := Config{MaximumRetryAttempts: 0, MaximumEventAge: 90 * time.Second}
	for _, n := range []string{"kept", "changed"} {
		if _, err := q.PutConfig(n, api); err != nil {
			t.Fatal(err)
		}
	}
	newCfg := Config{MaximumRetryAttempts: 2, MaximumEventAge: 2 * time.Hour}
	next := map[string]Config{"kept": fileCfg, "changed": newCfg}
	if err := q.SetConfigs(next); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for fn, want := range map[string]Config{"kept": api, "changed": newCfg} {
			if c, ok := q.GetConfig(fn); !ok || !sameSettings(c, want) {
				t.Errorf("%s: GetConfig(%s) = %+v, %v; want %+v", when, fn, c, ok, want)
			}
		}
		if c, ok := q.GetConfig("dropped"); ok {
			t.Errorf("%s: GetConfig(dropped) = %+v, want none", when, c)
		}
	}
	check("reload")
	if err := q.SetConfigs(map[string]Config{"x": {MaximumRetryAttempts: 9}}); err == nil {
		t.Error("SetConfigs accepted an invalid config")
	}
	check("refused reload")
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	opts.Configs = next
	q = openQueue(t, opts, inv)
	check("restart")
}

// TestSetConfigsFileDestination: an API change sending to a file:// the
// config file named (for another function) is dropped by the reload after
// which the file no longer names it, as Open drops it at a restart.
func TestSetConfigsFileDestination(t *testing.T) {
	t.Parallel()
	inv := newFakeInvoker()
	inv.add("a", -1, nil)
	inv.add("b", -1, nil)
	opts := testOptions(t, t.TempDir())
	named := "file:///var/log/albedo/failed.jsonl"
	opts.Configs = map[string]Config{"a": {MaximumRetryAttempts: 2, MaximumEventAge: time.Hour, OnFailure: named}}
	q := openQueue(t, opts, inv)
	if _, err := q.PutConfig("b", Config{MaximumEventAge: time.Hour, OnFailure: named}); err != nil {
		t.Fatal(err)
	}
	if err := q.SetConfigs(opts.Configs); err != nil {
		t.Fatal(err)
	}
	if _, ok := q.GetConfig("b"); !ok {
		t.Fatal("a reload that changed nothing dropped b's API change")
	}
	if err := q.SetConfigs(map[string]Config{"a": {MaximumRetryAttempts: 2, MaximumEventAge: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	if c, ok := q.GetConfig("b"); ok {
		t.Errorf("b keeps %+v, whose destination the file no longer names", c)
	}
}
