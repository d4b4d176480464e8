package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

// base is a minimal valid document that the cases below extend.
const base = `
listeners:
  - port: 8080
    default_action: {forward: {target_group: web}}
target_groups:
  - {name: web, targets: [web-fn]}
functions:
  - name: web-fn
    runtime: builtin
    handler: echo
    policy: [{sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:*"}]
`

func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		yaml  string
		check func(*config.Config) string // "" when fine
	}{
		{"defaults", base, func(c *config.Config) string {
			switch {
			case c.Region != "us-east-1" || c.AccountID != "123456789012" || c.LoadBalancer != "albedo":
				return "identity defaults"
			case c.Admin.Address != "127.0.0.1:9001" || c.MaxConcurrency != 1000 || c.IdleTimeout.Minutes() != 5:
				return "service defaults"
			case c.Listeners[0].Protocol != "HTTP" || c.Functions[0].MemorySize != 128 || c.Functions[0].Timeout != 3:
				return "listener/function defaults"
			case c.TargetGroups[0].Function != "web-fn" || c.Functions[0].ARN == "":
				return "derived fields"
			}
			return ""
		}},
		{"cpu_model defaults to host", base, func(c *config.Config) string {
			if c.CPUModel != "host" || c.Functions[0].CPUModel != "host" {
				return "cpu_model " + c.CPUModel + ", function " + c.Functions[0].CPUModel + "; want host"
			}
			return ""
		}},
		{"cpu_model inherited", "cpu_model: aws\n" + base + "  - {name: own, runtime: builtin, handler: echo, cpu_model: host}\n", func(c *config.Config) string {
			if c.Functions[0].CPUModel != "aws" || c.Functions[1].CPUModel != "host" {
				return "functions got " + c.Functions[0].CPUModel + ", " + c.Functions[1].CPUModel + "; want aws (inherited), host (own)"
			}
			return ""
		}},
		{"admin disabled", "admin: {address: \"\"}\n" + base, func(c *config.Config) string {
			if c.Admin.Address != "" {
				return "admin.address \"\" should disable the admin listener"
			}
			return ""
		}},
		{"admin null means default", "admin: {address: ~}\n" + base, func(c *config.Config) string {
			if c.Admin.Address != "127.0.0.1:9001" {
				return "admin.address null should default"
			}
			return ""
		}},
		{"merge keys and anchors", `
x-fn: &fn {runtime: builtin, handler: echo, memory_size: 256}
` + strings.Replace(base, "  - name: web-fn\n    runtime: builtin\n    handler: echo\n", "  - <<: *fn\n    name: web-fn\n    memory_size: 512\n", 1), nil},
		{"functions only", "functions: [{name: f, runtime: builtin, handler: echo}]\n", func(c *config.Config) string {
			if len(c.Listeners) != 0 || len(c.Functions) != 1 {
				return "want one function and no listener"
			}
			return ""
		}},
		{"unquoted account id", "account_id: 123456789012\n" + base, nil},
		{"all weights zero", strings.Replace(base, "{forward: {target_group: web}}", "{forward: {target_groups: [{name: web, weight: 0}]}}", 1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Parse([]byte(tt.yaml), "")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.check != nil {
				if msg := tt.check(c); msg != "" {
					t.Error(msg)
				}
			}
		})
	}
}

// TestMergeKeyPrecedence: keys written next to "<<" win over merged ones,
// and top-level "x-" keys hold anchors without being schema fields.
func TestMergeKeyPrecedence(t *testing.T) {
	t.Parallel()
	doc := "x-fn: &fn {runtime: builtin, handler: echo, memory_size: 256, timeout: 9}\n" +
		strings.Replace(base, "  - name: web-fn\n    runtime: builtin\n    handler: echo\n", "  - <<: *fn\n    name: web-fn\n    memory_size: 512\n", 1)
	c, err := config.Parse([]byte(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	if f := c.Functions[0]; f.MemorySize != 512 || f.Timeout != 9 || f.Runtime != "builtin" {
		t.Errorf("got memory %d timeout %d runtime %q, want 512 9 builtin", f.MemorySize, f.Timeout, f.Runtime)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       []string // each error's Error(), in order
	}{
		{"scalar root", "hello", []string{"1:1: expected a mapping, got \"hello\""}},
		{"list root", "- a", []string{"1:1: expected a mapping, got a list"}},
		{"empty document", "", []string{"nothing to serve: define at least one listener or function"}},
		{"all errors reported", "region: x\naccount_id: y\n" + base, []string{
			`1:9: region: invalid region "x": want a name such as us-east-1`,
			`2:13: account_id: must be 12 digits, got "y" (quote it so YAML keeps it a string)`,
		}},
		{"float for int", strings.Replace(base, "8080", "80.5", 1), []string{`3:11: listeners[0].port: expected an integer, got "80.5"`}},
		{"int overflow", strings.Replace(base, "8080", "99999999999999999999", 1), []string{`3:11: listeners[0].port: expected an integer, got "99999999999999999999"`}},
		{"non-string key", "{[a]: 1}", []string{"1:2: keys must be strings, got a list"}},
		{"alias bomb", aliasBomb(), []string{"document too large"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse([]byte(tt.yaml), "")
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want config.Errors, got %v", err)
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, e := range errs {
				if !strings.Contains(e.Error(), tt.want[i]) {
					t.Errorf("error %d = %q, want it to contain %q", i, e.Error(), tt.want[i])
				}
			}
		})
	}
}

// aliasBomb nests aliases through the schema's lists (listeners, rules,
// conditions) so that a naive expansion visits 100^3 conditions.
func aliasBomb() string {
	rep := func(s string) string { return strings.TrimSuffix(strings.Repeat(s+", ", 100), ", ") }
	return "x-c: &c {path_pattern: [\"/a\"]}\n" +
		"x-r: &r {priority: 1, conditions: [" + rep("*c") + "], action: {fixed_response: {status_code: 200}}}\n" +
		"x-l: &l {port: 1, rules: [" + rep("*r") + "], default_action: {fixed_response: {status_code: 200}}}\n" +
		"listeners: [" + rep("*l") + "]\n"
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    config.Error
		want string
	}{
		{config.Error{File: "a.yaml", Line: 3, Column: 5, Path: "region", Msg: "bad"}, "a.yaml:3:5: region: bad"},
		{config.Error{File: "a.yaml", Line: 3, Msg: "bad"}, "a.yaml:3: bad"},
		{config.Error{Path: "region", Msg: "bad"}, "region: bad"},
		{config.Error{File: "a.yaml", Msg: "bad"}, "a.yaml: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	errs := config.Errors{&tt0, &tt1}
	if got := errs.Error(); got != "x:1:1: a\nx:2:1: b" {
		t.Errorf("Errors.Error() = %q", got)
	}
	if !errors.Is(errs, config.ErrInvalid) {
		t.Error("Errors does not match ErrInvalid")
	}
}

var (
	tt0 = config.Error{File: "x", Line: 1, Column: 1, Msg: "a"}
	tt1 = config.Error{File: "x", Line: 2, Column: 1, Msg: "b"}
)

func TestLoadIOError(t *testing.T) {
	t.Parallel()
	_, err := config.Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, os.ErrNotExist) || errors.Is(err, config.ErrInvalid) {
		t.Errorf("want a wrapped not-exist error, got %v", err)
	}
}

func TestLoadRelativePaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "fn"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fn", "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	doc := "state_dir: state\n" + strings.Replace(base, "    runtime: builtin\n    handler: echo\n", "    runtime: provided.al2\n    code: fn\n    async: {on_failure: \"file://dlq.jsonl\"}\n", 1)
	path := filepath.Join(dir, "albedo.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f := c.Functions[0]
	for _, tt := range []struct{ got, want string }{
		{c.File, path},
		{c.StateDir, filepath.Join(dir, "state")},
		{f.Code, filepath.Join(dir, "fn")},
		{f.Handler, "bootstrap"},
		{f.Async.OnFailure, "file://" + filepath.Join(dir, "dlq.jsonl")},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestDefault(t *testing.T) {
	t.Parallel()
	c := config.Default()
	wd, _ := os.Getwd()
	switch {
	case len(c.Listeners) != 1 || c.Listeners[0].Address != "127.0.0.1" || c.Listeners[0].Port != 8080:
		t.Error("want one listener on 127.0.0.1:8080")
	case c.Listeners[0].Rules[0].Priority != 10 || c.Listeners[0].Rules[0].Conditions[0].PathPattern[0] != "/echo*":
		t.Error("want rule 10 /echo*")
	case c.Listeners[0].DefaultAction.Forward.TargetGroups[0].Name != "echo":
		t.Error("default action should forward to echo")
	case c.TargetGroupByName("echo").Function != "echo" || c.FunctionByName("echo").Runtime != "builtin":
		t.Error("want group echo -> builtin function echo")
	case c.Admin.Address != "127.0.0.1:9001":
		t.Error("admin address")
	case c.StateDir != filepath.Join(wd, ".albedo"):
		t.Errorf("state_dir %q", c.StateDir)
	case c.File != "":
		t.Errorf("File %q, want empty", c.File)
	}
	// Each call returns a fresh copy.
	c.Listeners[0].Port = 1
	if config.Default().Listeners[0].Port != 8080 {
		t.Error("Default shares state between calls")
	}
}
