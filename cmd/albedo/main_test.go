package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

func TestRun(t *testing.T) {
	t.Parallel()
	example := filepath.Join("..", "..", "testdata", "config", "example.yaml")
	invalid := filepath.Join("..", "..", "testdata", "config", "invalid", "rule_priority_duplicate.yaml")
	tests := []struct {
		name        string
		args        []string
		code        int
		stdout      []string // substrings that must appear
		stderr      []string
		stderrLines int    // exact line count when > 0
		needs       string // an interpreter the case needs: "node", "python"
	}{
		{
			name: "validate example",
			args: []string{"validate", "-config", example},
			code: 0,
			stdout: []string{
				"config: " + example,
				"listener HTTP 127.0.0.1:8080",
				"  rule 10\n    if   path_pattern /api/* AND http_request_method GET | POST\n    then forward api (weight 80), api-next (weight 20), sticky 600s",
				"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/",
				"function api-fn\n  arn       arn:aws:lambda:us-east-1:123456789012:function:api-fn",
				"function web-node\n  arn       arn:aws:lambda:us-east-1:123456789012:function:web-node\n  runtime   nodejs18.x, handler index.handler",
				"ok: 2 listeners, 3 target groups, 3 functions",
			},
			needs: "node",
		},
		{
			name:        "validate invalid",
			args:        []string{"validate", "-config", invalid},
			code:        2,
			stderr:      []string{"rule_priority_duplicate.yaml:12:19: listeners[0].rules[1].priority: 10 is already used by rules[0]"},
			stderrLines: 1,
		},
		{
			name:        "validate several errors",
			args:        []string{"validate", "-config", writeTemp(t, "region: x\naccount_id: y\n")},
			code:        2,
			stderr:      []string{"1:9: region:", "2:13: account_id:", "nothing to serve"},
			stderrLines: 3,
		},
		{
			name:   "validate missing file",
			args:   []string{"validate", "-config", filepath.Join(t.TempDir(), "nope.yaml")},
			code:   1,
			stderr: []string{"no such file"},
		},
		{
			name:   "validate embedded default",
			args:   []string{"validate"},
			code:   0,
			stdout: []string{"config: embedded default (no ./albedo.yaml)", "listener HTTP 127.0.0.1:8080", "path_pattern /echo*"},
		},
		{name: "validate stray argument", args: []string{"validate", "x"}, code: 2, stderr: []string{"usage: albedo validate"}},
		{name: "validate bad flag", args: []string{"validate", "-nope"}, code: 2, stderr: []string{"flag provided but not defined"}},
		{name: "version", args: []string{"version"}, code: 0, stdout: []string{"albedo dev ("}},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: []string{`unknown command "frobnicate"`, "validate"}},
		{name: "help", args: []string{"help"}, code: 0, stdout: []string{"usage: albedo", "serve", "validate", "version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.needs != "" {
				exectest.LocalRuntime(t, tt.needs)
			}
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
			if n := strings.Count(stderr.String(), "\n"); tt.stderrLines > 0 && n != tt.stderrLines {
				t.Errorf("stderr has %d lines, want %d:\n%s", n, tt.stderrLines, &stderr)
			}
		})
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "albedo.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
