package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// reloadable is albedo started in-process from a config file, and its
// reloader (no watcher, no signals: the tests call it).
type reloadable struct {
	*e2e
	r        *reloader
	path     string
	problems *lockedBuffer
	results  []bool // onReload's outcomes
}

// startReloadable writes text (%[1]s: the listener port, %[2]s: the admin
// address, %[3]s: the state directory, {{albecho}}: the test function)
// and serves it.
func startReloadable(t *testing.T, text string) *reloadable {
	t.Helper()
	dir := t.TempDir()
	rr := &reloadable{path: filepath.Join(dir, "albedo.yaml"), problems: &lockedBuffer{}}
	text = strings.ReplaceAll(text, "{{albecho}}", exectest.Build(t, "albecho"))
	_, port, _ := strings.Cut(freeLoopbackAddr(t), ":")
	rr.write(t, fmt.Sprintf(text, port, freeLoopbackAddr(t), filepath.Join(dir, "state")))
	cfg, err := config.Load(rr.path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	s, err := start(context.Background(), cfg, log, logs, nil)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	rr.e2e = &e2e{t: t, s: s, log: logs}
	if s.bal != nil {
		rr.base = "http://" + s.bal.Addrs()[0].String()
	}
	rr.admin = "http://" + s.adminLn.Addr().String()
	rr.r = &reloader{s: s, file: rr.path, log: log, problems: rr.problems, alog: &accessLog{}}
	rr.r.onReload = func(ok bool, _ time.Time) { rr.results = append(rr.results, ok) }
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		s.shutdown(ctx)
		if t.Failed() {
			t.Logf("albedo log:\n%s\nproblems:\n%s", logs, rr.problems)
		}
	})
	return rr
}

func (rr *reloadable) write(t *testing.T, text string) {
	t.Helper()
	if err := os.WriteFile(rr.path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// edit replaces old with new in the file and reloads; ok is the outcome.
func (rr *reloadable) edit(t *testing.T, old, new string) bool {
	t.Helper()
	b, err := os.ReadFile(rr.path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("the config has no %q", old)
	}
	rr.write(t, strings.Replace(string(b), old, new, 1))
	rr.r.reloadConfig(context.Background(), "test", nil)
	return rr.results[len(rr.results)-1]
}

const reloadTestConfig = `
state_dir: %[3]s
admin: {address: %[2]s}
max_concurrency: 100
listeners:
  - port: %[1]s
    address: 127.0.0.1
    default_action: {forward: {target_group: echo}}
target_groups:
  - {name: echo, targets: [albecho]}
functions:
  - name: albecho
    runtime: provided.al2023
    code: {{albecho}}
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
`

// TestReloadKeepsPolicyAPIChanges: a statement added through the policy
// API survives a reload that leaves the function's config statements
// alone, and goes when the reload changes them (the file wins, as at a
// restart).
func TestReloadKeepsPolicyAPIChanges(t *testing.T) {
	rr := startReloadable(t, reloadTestConfig)
	client := lambda.New(lambda.Options{BaseEndpoint: aws.String(rr.admin), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
	ctx := context.Background()
	if _, err := client.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("albecho"),
		StatementId: aws.String("s3"), Principal: aws.String("s3.amazonaws.com"), Action: aws.String("lambda:InvokeFunction")}); err != nil {
		t.Fatal(err)
	}
	policy := func() string {
		t.Helper()
		out, err := client.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("albecho")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Policy)
	}
	if !rr.edit(t, "max_concurrency: 100\n", "max_concurrency: 100\nx-note: an unrelated edit\n") {
		t.Fatalf("reload failed:\n%s", rr.problems)
	}
	if p := policy(); !strings.Contains(p, `"Sid":"s3"`) {
		t.Errorf("after a reload that kept the function's statements the API's is gone: %s", p)
	}
	if !rr.edit(t, `action: "lambda:InvokeFunction"}`, `action: "lambda:InvokeFunction"}
      - {sid: sns, principal: sns.amazonaws.com, action: "lambda:InvokeFunction"}`) {
		t.Fatalf("reload failed:\n%s", rr.problems)
	}
	if p := policy(); strings.Contains(p, `"Sid":"s3"`) || !strings.Contains(p, `"Sid":"sns"`) {
		t.Errorf("after the file changed the statements: %s, want the file's (sns, no s3)", p)
	}
	if code, _, _ := rr.do("GET", "/x", nil); code != 200 {
		t.Errorf("GET after the reloads: %d", code)
	}
}

// TestReloadRefused: problems found only when applying (a setting that
// needs a restart, an interpreter that is not there) keep the running
// config, are printed as validate prints them, and count as failed
// reloads for the metrics hook.
func TestReloadRefused(t *testing.T) {
	rr := startReloadable(t, reloadTestConfig)
	tests := []struct {
		name, old, new, want string
	}{
		{"restart only", "max_concurrency: 100", "max_concurrency: 200",
			"albedo.yaml:4:18: max_concurrency: cannot change while albedo runs (100, now 200): restart albedo to apply it; the reload was not applied"},
		{"no interpreter", "max_concurrency: 100", "max_concurrency: 100\nruntimes: {nodejs20.x: no-such-node-binary}",
			`runtimes.nodejs20.x: interpreter "no-such-node-binary" not found or not executable`},
		{"invalid", "port: ", "port: -",
			"listeners[0].port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(rr.path)
			defer rr.write(t, string(before))
			if tt.name == "no interpreter" {
				// A Node function, so that the runtime is checked.
				tt.new += "\n"
				rr.write(t, strings.Replace(string(before), "functions:\n", "functions:\n  - {name: web, runtime: nodejs20.x, handler: index.handler, code: .}\n", 1))
			}
			if rr.edit(t, tt.old, tt.new) {
				t.Fatal("the reload succeeded")
			}
			if !strings.Contains(rr.problems.String(), tt.want) {
				t.Errorf("printed problems lack %q:\n%s", tt.want, rr.problems)
			}
			if code, _, _ := rr.do("GET", "/x", nil); code != 200 {
				t.Errorf("the running config stopped serving: %d", code)
			}
			if rr.s.current().MaxConcurrency != 100 {
				t.Error("the served config changed")
			}
		})
	}
	if !strings.Contains(rr.log.String(), "config reload failed: albedo keeps serving the previous configuration") {
		t.Error("no failure line in the log")
	}
}

// TestReloadAddsFirstListener: albedo serving functions only gets its
// first listener by a reload, access log included.
func TestReloadAddsFirstListener(t *testing.T) {
	rr := startReloadable(t, `
state_dir: %[3]s
admin: {address: %[2]s}
# port %[1]s
functions:
  - name: albecho
    runtime: provided.al2023
    code: {{albecho}}
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
`)
	if rr.s.bal != nil {
		t.Fatal("a balancer without listeners")
	}
	b, _ := os.ReadFile(rr.path)
	port := strings.TrimSpace(strings.SplitN(strings.SplitN(string(b), "# port ", 2)[1], "\n", 2)[0])
	logFile := filepath.Join(filepath.Dir(rr.path), "access.log")
	if !rr.edit(t, "functions:", fmt.Sprintf(`access_log: {path: access.log}
listeners:
  - {port: %s, address: 127.0.0.1, default_action: {forward: {target_group: echo}}}
target_groups:
  - {name: echo, targets: [albecho]}
functions:`, port)) {
		t.Fatalf("reload failed:\n%s", rr.problems)
	}
	rr.base = "http://127.0.0.1:" + port
	if code, _, _ := rr.do("GET", "/first", nil); code != 200 {
		t.Fatalf("the new listener answered %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rr.s.balancer().Shutdown(ctx) // flushes the access log
	if b, _ := os.ReadFile(logFile); !strings.Contains(string(b), "/first HTTP/1.1") {
		t.Errorf("access log: %q", b)
	}
}

// TestReloadRemoteClients: a remote function's client is rebuilt only when
// its settings change; the listing and the Router follow.
func TestReloadRemoteClients(t *testing.T) {
	rr := startReloadable(t, reloadTestConfig+`  - name: far
    endpoint: http://127.0.0.1:1
    timeout: 3
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
`)
	before := rr.s.inv.Clients()
	if len(before) != 1 {
		t.Fatalf("%d remote clients", len(before))
	}
	if !rr.edit(t, "max_concurrency: 100\n", "max_concurrency: 100\nx-note: unrelated\n") {
		t.Fatalf("reload failed:\n%s", rr.problems)
	}
	if after := rr.s.inv.Clients(); len(after) != 1 || after[0] != before[0] {
		t.Error("an unchanged remote function's client was rebuilt")
	}
	if !rr.edit(t, "timeout: 3", "timeout: 4") {
		t.Fatalf("reload failed:\n%s", rr.problems)
	}
	after := rr.s.inv.Clients()
	if len(after) != 1 || after[0] == before[0] || after[0].Function().Timeout != 4*time.Second {
		t.Error("a changed remote function kept its old client")
	}
	if !strings.Contains(rr.log.String(), "remote_functions=~far") {
		t.Errorf("the reload line does not name the rebuilt remote function:\n%s", rr.log)
	}
}

// TestReloadRemotePolicyRefused: a reload that gives a remote function
// policy_source: aws is checked as start-up checks it; when AWS (here a
// second albedo) would refuse the target, the reload is refused with the
// same message and the running config keeps serving.
func TestReloadRemotePolicyRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second albedo")
	}
	remoteURL := startRemoteChild(t)
	rr := startReloadable(t, reloadTestConfig+`  - name: fn
    endpoint: `+remoteURL+`
    function_name: nopolicy
    credentials: {access_key_id: `+testAccessKey+`, secret_access_key: `+testSecretKey+`}
    region: eu-west-1
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
`)
	ok := rr.edit(t, `target_groups:
  - {name: echo, targets: [albecho]}`, `target_groups:
  - {name: echo, targets: [albecho]}
  - {name: other, targets: [fn]}`)
	if !ok {
		t.Fatalf("reload failed:\n%s", rr.problems)
	}
	b, _ := os.ReadFile(rr.path)
	rr.write(t, strings.Replace(string(b), "    region: eu-west-1\n    policy:\n      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: \"lambda:InvokeFunction\"}\n",
		"    region: eu-west-1\n    policy_source: aws\n", 1))
	rr.r.reloadConfig(context.Background(), "test", nil)
	if rr.results[len(rr.results)-1] {
		t.Fatal("the reload succeeded; want the policy refused")
	}
	want := "target_groups[1].targets[0]: elasticloadbalancing principal does not have permission to invoke arn:aws:lambda:us-east-1:123456789012:function:fn"
	if !strings.Contains(rr.problems.String(), want) {
		t.Errorf("problems lack %q:\n%s", want, rr.problems)
	}
	if code, _, _ := rr.do("GET", "/x", nil); code != 200 {
		t.Errorf("the running config stopped serving: %d", code)
	}
}

// TestReloadMissingFile: albedo started without a file argument on the
// ./albedo.yaml it found reloads that file, and while it is missing (an
// editor's delete-then-write, a git checkout) the reload is refused: it
// once fell back to the embedded default and could swap the user's rules
// for the demo's.
func TestReloadMissingFile(t *testing.T) {
	rr := startReloadable(t, reloadTestConfig)
	if got := reloadFile("", config.Default()); got != "" {
		t.Errorf("embedded default: reload file %q, want \"\" (keep looking for ./albedo.yaml)", got)
	}
	rr.r.file = reloadFile("", rr.s.current()) // what serve sets for a start on ./albedo.yaml
	if rr.r.file != rr.path {
		t.Fatalf("reload file %q, want %q", rr.r.file, rr.path)
	}
	moved := rr.path + ".moved"
	if err := os.Rename(rr.path, moved); err != nil {
		t.Fatal(err)
	}
	rr.r.reloadConfig(context.Background(), "test", nil)
	if rr.results[len(rr.results)-1] {
		t.Fatal("the reload succeeded without the file")
	}
	if !strings.Contains(rr.problems.String(), "no such file") {
		t.Errorf("printed problems do not say the file is missing:\n%s", rr.problems)
	}
	if code, _, _ := rr.do("GET", "/x", nil); code != 200 {
		t.Errorf("the running config stopped serving: %d", code)
	}
	if err := os.Rename(moved, rr.path); err != nil {
		t.Fatal(err)
	}
	if !rr.edit(t, "max_concurrency: 100", "max_concurrency: 100\nidle_timeout: 5m") {
		t.Errorf("the reload with the file back failed:\n%s", rr.problems)
	}
}
