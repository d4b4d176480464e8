package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor/policy"
)

// TestStateCommand covers the state command's usage, its answers on an
// empty state_dir and its refusal while another albedo holds the files.
func TestStateCommand(t *testing.T) {
	empty := t.TempDir()
	locked := t.TempDir()
	store, err := policy.Open(locked, "us-east-1", "123456789012", []config.Function{{Name: "f"}})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	zero := t.TempDir()
	if err := os.WriteFile(filepath.Join(zero, "queue.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	withState := writeTemp(t, "state_dir: "+filepath.Join(empty, "from-config")+"\nfunctions:\n  - {name: f, runtime: builtin, handler: echo}\n")

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "no verb", args: []string{"state"}, code: 2, stderr: []string{"usage: albedo state check|salvage"}},
		{name: "help", args: []string{"state", "-h"}, code: 0, stdout: []string{"usage: albedo state check|salvage"}},
		{name: "verb help", args: []string{"state", "check", "-h"}, code: 0, stderr: []string{"usage: albedo state"}},
		{name: "unknown verb", args: []string{"state", "repair"}, code: 2, stderr: []string{`unknown command "repair"`}},
		{name: "both sources", args: []string{"state", "check", "-config", withState, "-state-dir", empty}, code: 2, stderr: []string{"give -config FILE or -state-dir DIR"}},
		{name: "stray argument", args: []string{"state", "check", "x"}, code: 2, stderr: []string{"give -config FILE or -state-dir DIR"}},
		{name: "check empty", args: []string{"state", "check", "-state-dir", empty}, code: 0,
			stdout: []string{"state_dir " + empty, "policy.db  not there yet", "queue.db   not there yet"}},
		{name: "check a zero-length file", args: []string{"state", "check", "-state-dir", zero}, code: 0,
			stdout: []string{"queue.db   empty (0 bytes): albedo starts it afresh; if it held the queued asynchronous (Event) invocations"}},
		{name: "check the config's state_dir", args: []string{"state", "check", "-config", withState}, code: 0,
			stdout: []string{"state_dir " + filepath.Join(empty, "from-config")}},
		{name: "salvage empty", args: []string{"state", "salvage", "-state-dir", empty}, code: 0,
			stdout: []string{"policy.db  not there yet (nothing stored); left as it is"}},
		{name: "check locked", args: []string{"state", "check", "-state-dir", locked}, code: 1,
			stdout: []string{"policy.db  locked: an albedo is serving this state_dir"}},
		{name: "salvage locked", args: []string{"state", "salvage", "-state-dir", locked}, code: 1,
			stdout: []string{"policy.db  locked: an albedo is serving this state_dir"}},
		{name: "bad config", args: []string{"state", "check", "-config", writeTemp(t, "region: x\n")}, code: 2, stderr: []string{"region"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, &stdout, &stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, &stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, &stderr)
				}
			}
		})
	}
}

// TestWarnEmptyStateFiles: serve warns about a zero-length state file before
// opening it as new, the one moment it can still say records may be lost.
func TestWarnEmptyStateFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "policy.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "queue.db"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	warnEmptyStateFiles(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if n := strings.Count(logs.String(), "state file is empty (0 bytes)"); n != 1 || !strings.Contains(logs.String(), "policy.db") {
		t.Errorf("want one warning naming policy.db:\n%s", &logs)
	}
}
