package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/config"
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
				"\naccess_log: /",
				"listener HTTP 127.0.0.1:8080",
				"  rule 10\n    if   path_pattern /api/* AND http_request_method GET | POST\n    then forward api (weight 80), api-next (weight 20), sticky 600s",
				"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/",
				"function api-fn\n  arn       arn:aws:lambda:us-east-1:123456789012:function:api-fn",
				"target group api-aws\n  arn       arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-aws/",
				"  function  prod-api (remote: arn:aws:lambda:eu-west-1:111122223333:function:api:live)",
				"function prod-api\n  arn       arn:aws:lambda:eu-west-1:111122223333:function:api:live\n  remote    AWS Lambda, the AWS SDK's default credentials",
				"function rie-api\n  arn       arn:aws:lambda:us-east-1:123456789012:function:rie-api\n  remote    endpoint http://127.0.0.1:9000, function_name function, SigV4-signed as AKIDEXAMPLE",
				"function web-node\n  arn       arn:aws:lambda:us-east-1:123456789012:function:web-node\n  runtime   nodejs20.x, handler index.handler",
				"ok: 2 listeners, 5 target groups, 5 functions",
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
		{name: "validate positional", args: []string{"validate", example}, code: 0, stdout: []string{"config: " + example, "ok: 2 listeners"}},
		{name: "validate positional invalid", args: []string{"validate", invalid}, code: 2, stderr: []string{"rule_priority_duplicate.yaml:12:19: "}, stderrLines: 1},
		{name: "validate flag after positional", args: []string{"validate", example, "-config", example}, code: 2, stderr: []string{"albedo validate: config file given twice", "usage: albedo validate"}},
		{name: "validate both", args: []string{"validate", "-config", example, invalid}, code: 2, stderr: []string{"config file given twice"}},
		{name: "validate two paths", args: []string{"validate", example, invalid}, code: 2, stderr: []string{`unexpected argument "` + invalid + `"`, "usage: albedo validate"}},
		{name: "validate stdin path", args: []string{"validate", "-"}, code: 2, stderr: []string{`invalid config path "-"`}},
		{name: "validate bad flag", args: []string{"validate", "-nope"}, code: 2, stderr: []string{"albedo validate: flag provided but not defined: -nope", "usage: albedo validate"}},
		{name: "validate -h", args: []string{"validate", "-h"}, code: 0, stdout: []string{"usage: albedo validate [-config FILE | FILE]", "-config string"}},
		{name: "version", args: []string{"version"}, code: 0, stdout: []string{"albedo dev ("}},
		{name: "version stray argument", args: []string{"version", "x"}, code: 2, stderr: []string{`unexpected argument "x": version takes none`}},
		{name: "version -h", args: []string{"version", "-h"}, code: 0, stdout: []string{"usage: albedo version"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: []string{`unknown command "frobnicate"`, "validate"}},
		{name: "config as command", args: []string{"other.yaml"}, code: 2, stderr: []string{`unknown command "other.yaml" (to serve that file: albedo serve other.yaml)`}},
		{name: "no arguments", args: nil, code: 0, stdout: []string{"usage: albedo", "serve", "validate", "albedo serve [FILE] serves FILE"}},
		{name: "help", args: []string{"help"}, code: 0, stdout: []string{"usage: albedo", "serve", "validate", "version", "bench"}},
		{name: "-h", args: []string{"-h"}, code: 0, stdout: []string{"usage: albedo", "serve", "validate"}},
		{name: "-help", args: []string{"-help"}, code: 0, stdout: []string{"usage: albedo", "serve", "validate"}},
		{name: "--help", args: []string{"--help"}, code: 0, stdout: []string{"usage: albedo", "serve", "validate"}},
		{name: "help serve", args: []string{"help", "serve"}, code: 0, stdout: []string{"usage: albedo serve [-config FILE | FILE]", "-access-log string", "-config string"}},
		{name: "help unknown", args: []string{"help", "nope"}, code: 2, stderr: []string{`albedo help: unknown command "nope"`}},
		{name: "help hidden", args: []string{"help", builtinSubcommand}, code: 2, stderr: []string{"unknown command"}},
		{name: "help two", args: []string{"help", "serve", "validate"}, code: 2, stderr: []string{`unexpected argument "validate"`}},
		{name: "serve -h", args: []string{"serve", "-h"}, code: 0, stdout: []string{"usage: albedo serve", "-access-log string", "-config string"}},
		{name: "serve --help", args: []string{"serve", "--help"}, code: 0, stdout: []string{"usage: albedo serve"}},
		{name: "serve bad flag", args: []string{"serve", "-nope"}, code: 2, stderr: []string{"albedo serve: flag provided but not defined: -nope", "usage: albedo serve"}},
		{name: "serve bad log level", args: []string{"serve", "-log-level", "loud", example}, code: 2, stderr: []string{`albedo serve: -log-level "loud": want debug, info, warn or error`, "usage: albedo serve"}},
		{name: "serve bad log format", args: []string{"serve", "-log-format", "xml", example}, code: 2, stderr: []string{`albedo serve: -log-format "xml": want text or json`}},
		{name: "serve two paths", args: []string{"serve", example, invalid}, code: 2, stderr: []string{`albedo serve: unexpected argument "` + invalid + `"`}},
		{name: "serve both", args: []string{"serve", "-config", example, invalid}, code: 2, stderr: []string{"albedo serve: config file given twice"}},
		// The positional path is served: this one is invalid, so serve
		// exits 2 with its errors (it used to be ignored, and the embedded
		// default served on 8080).
		{name: "serve positional", args: []string{"serve", invalid}, code: 2, stderr: []string{"rule_priority_duplicate.yaml:12:19: "}, stderrLines: 1},
		{name: "flags before the path", args: []string{"-access-log", "-", invalid}, code: 2, stderr: []string{"rule_priority_duplicate.yaml:12:19: "}, stderrLines: 1},
		{name: "serve flag after the path", args: []string{"serve", invalid, "-access-log"}, code: 2, stderr: []string{"flag needs an argument: -access-log"}},
		{name: "bench -h", args: []string{"bench", "-h"}, code: 0, stdout: []string{"usage: albedo bench", "-concurrency string", "-duration duration"}},
		{name: "bench bad concurrency", args: []string{"bench", "-concurrency", "0"}, code: 2, stderr: []string{`albedo bench: bad concurrency "0"`}},
		{name: "bench stray argument", args: []string{"bench", "x"}, code: 2, stderr: []string{`unexpected argument "x": bench takes none`}},
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
			if tt.code == 0 && len(nonWarnings(stderr.String())) > 0 {
				// Warnings about the machine's interpreters (a newer
				// Node.js than the example's runtime) are not failures.
				t.Errorf("stderr not empty:\n%s", &stderr)
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

// validate warns when cpu_model aws cannot be honoured, and exits 0.
func TestWarnCPUModel(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse([]byte(`
cpu_model: aws
admin: {address: "127.0.0.1:18601"}
functions:
  - {name: a, runtime: builtin, handler: echo}
  - {name: b, runtime: builtin, handler: echo, cpu_model: host}
  - {name: c, runtime: builtin, handler: noop}
`), filepath.Join(t.TempDir(), "albedo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	warnCPUModel(&w, cfg, func() error { return errors.New("no writable cgroup") })
	want := "warning: cpu_model aws cannot be honoured on this machine (no writable cgroup): a, c would get the host's CPU\n"
	if w.String() != want {
		t.Errorf("warning = %q, want %q", w.String(), want)
	}
	w.Reset()
	warnCPUModel(&w, cfg, func() error { return nil })
	if w.Len() != 0 {
		t.Errorf("warning %q when cgroups can limit CPU", w.String())
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

// nonWarnings are the lines of out that are not warnings: config warnings
// ("file:line:col: path: warning: …") and this machine's ("warning: …",
// such as a cpu_model aws it cannot honour).
func nonWarnings(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" && !strings.Contains(l, ": warning: ") && !strings.HasPrefix(l, "warning: ") {
			lines = append(lines, l)
		}
	}
	return lines
}
