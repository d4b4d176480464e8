package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// conformanceTarget is one implementation of the ALB test function
// (testdata/functions/alb and testfunctions/alb).
type conformanceTarget struct {
	name     string
	lang     string // "go", "node", "python"
	code     string // relative to the repository root, or a built directory
	handler  string
	logLine  string // regexp of the /log request's line, %s = request id
	errShape string // the Invoke API payload of /error
}

var conformanceTargets = []conformanceTarget{
	{name: "go", lang: "go", handler: "bootstrap",
		logLine:  `(?m)^\[fn\] alb print$`,
		errShape: `^\{"errorMessage":"alb: asked to fail","errorType":"errorString"\}$`},
	{name: "node-cjs", lang: "node", code: "testdata/functions/alb/node-cjs", handler: "index.handler",
		logLine:  `(?m)^\[fn\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\tINFO\talb log text 42$`,
		errShape: `^\{"errorType":"Error","errorMessage":"alb: asked to fail","trace":\["Error: alb: asked to fail","    at `},
	{name: "node-esm", lang: "node", code: "testdata/functions/alb/node-esm", handler: "app.handler",
		logLine:  `(?m)^\[fn\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\tINFO\talb log text 42$`,
		errShape: `^\{"errorType":"Error","errorMessage":"alb: asked to fail","trace":\["Error: alb: asked to fail","    at `},
	{name: "python", lang: "python", code: "testdata/functions/alb/python", handler: "app.handler",
		logLine:  `(?m)^\[fn\] \[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\talb log text 42$`,
		errShape: `^\{"errorMessage": "alb: asked to fail", "errorType": "RuntimeError", "requestId": "[0-9a-f-]{36}", "stackTrace": \["  File \\".*app\.py\\", line \d+, in handler\\n`},
}

// initErrorCases are functions whose init fails, per language: handler,
// code directory (relative to the repository root, "" = the target's)
// and the errorType every runtime of the language reports. MODULE is the
// target's handler module.
var initErrorCases = map[string][]struct{ path, handler, code, errorType string }{
	"node": {
		{"/init/import", "missing.handler", "", "Runtime.ImportModuleError"},
		{"/init/handler", "MODULE.nothere", "", "Runtime.HandlerNotFound"},
		{"/init/syntax", "syntax.handler", "testdata/functions/broken", "Runtime.UserCodeSyntaxError"},
		{"/init/malformed", "MODULE", "", "Runtime.MalformedHandlerName"},
	},
	"python": {
		{"/init/import", "missing.handler", "", "Runtime.ImportModuleError"},
		{"/init/handler", "MODULE.nothere", "", "Runtime.HandlerNotFound"},
		{"/init/syntax", "syntax.handler", "testdata/functions/broken", "Runtime.UserCodeSyntaxError"},
		{"/init/malformed", "MODULE", "", "Runtime.MalformedHandlerName"},
	},
}

// conformanceConfig is albedo.yaml for one target: the function behind a
// single-value group (default action) and a multi-value one (header
// x-mode: multi), plus one function per init error, each behind its path.
func conformanceConfig(t *testing.T, tt conformanceTarget, runtime, code, layer string) string {
	t.Helper()
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	policy := `    policy: [{sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}]` + "\n"
	var rules, groups, fns strings.Builder
	fmt.Fprintf(&groups, "  - {name: single, targets: [fn]}\n  - {name: multi, targets: [fn], multi_value_headers: true}\n")
	fmt.Fprintf(&fns, "  - name: fn\n    runtime: %s\n    handler: %s\n    code: %q\n    timeout: 1\n    layers: [%q]\n%s", runtime, tt.handler, code, layer, policy)
	for i, ie := range initErrorCases[tt.lang] {
		name := fmt.Sprintf("init%d", i)
		dir := code
		if ie.code != "" {
			dir = filepath.Join(root, ie.code)
		}
		fmt.Fprintf(&rules, "      - {priority: %d, conditions: [{path_pattern: [%q]}], action: {forward: {target_group: %s}}}\n", 20+i, ie.path, name)
		fmt.Fprintf(&groups, "  - {name: %s, targets: [%s]}\n", name, name)
		handler := strings.ReplaceAll(ie.handler, "MODULE", strings.Split(tt.handler, ".")[0])
		fmt.Fprintf(&fns, "  - name: %s\n    runtime: %s\n    handler: %q\n    code: %q\n%s", name, runtime, handler, dir, policy)
	}
	return fmt.Sprintf(`listeners:
  - port: 1
    default_action: {forward: {target_group: single}}
    rules:
      - {priority: 10, conditions: [{http_header: {name: x-mode, values: [multi]}}], action: {forward: {target_group: multi}}}
%starget_groups:
%sfunctions:
%s`, rules.String(), groups.String(), fns.String())
}

// conformanceLayer is testdata/functions/alb-layer assembled as a layer
// (its nodejs-module directory becomes nodejs/node_modules) plus the test
// extension (testfunctions/extension) as extensions/alb-ext.
func conformanceLayer(t *testing.T, root string) string {
	t.Helper()
	layer := t.TempDir()
	src := filepath.Join(root, "testdata", "functions", "alb-layer")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if r, ok := strings.CutPrefix(rel, "nodejs-module"); ok {
			rel = filepath.Join("nodejs", "node_modules") + r
		}
		target := filepath.Join(layer, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(layer, "extensions"), 0o755)
	if err := os.Symlink(filepath.Join(exectest.Build(t, "extension"), "bootstrap"), filepath.Join(layer, "extensions", "alb-ext")); err != nil {
		t.Fatal(err)
	}
	return layer
}

// albBody is the JSON body of the ALB test function's default answer.
type albBody struct {
	Count   int             `json:"count"`
	Event   json.RawMessage `json:"event"`
	Context struct {
		AwsRequestID          string `json:"awsRequestId"`
		FunctionName          string `json:"functionName"`
		FunctionVersion       string `json:"functionVersion"`
		InvokedFunctionArn    string `json:"invokedFunctionArn"`
		MemoryLimitInMB       string `json:"memoryLimitInMB"`
		LogGroupName          string `json:"logGroupName"`
		LogStreamName         string `json:"logStreamName"`
		RemainingTimeInMillis int64  `json:"remainingTimeInMillis"`
	} `json:"context"`
}

// TestRuntimeConformance runs one table against the same ALB function in
// Go, Node.js (CommonJS and ES module) and Python behind a real listener
// and the Invoke API.
func TestRuntimeConformance(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string]string{} // target -> the shape of its default answer
	for _, tt := range conformanceTargets {
		t.Run(tt.name, func(t *testing.T) {
			runtime, code := "provided.al2023", exectest.Build(t, "alb")
			if tt.lang != "go" {
				runtime, code = exectest.LocalRuntime(t, tt.lang), filepath.Join(root, tt.code)
			}
			layer := conformanceLayer(t, root)
			cfg, err := config.Parse([]byte(conformanceConfig(t, tt, runtime, code, layer)), filepath.Join(t.TempDir(), "albedo.yaml"))
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			e := startE2E(t, cfg)
			shapes[tt.name] = conformance(t, e, tt, cfg)
		})
	}
	// Every implementation answers the same way.
	var want string
	for name, shape := range shapes {
		if want == "" {
			want = shape
		} else if shape != want {
			t.Errorf("%s answers\n%s\nothers answer\n%s", name, shape, want)
		}
	}
}

// conformance runs the table against one target and returns the shape of
// its answer (status, headers, body keys) for the cross-language check.
func conformance(t *testing.T, e *e2e, tt conformanceTarget, cfg *config.Config) string {
	fnARN := cfg.Functions[0].ARN
	decode := func(t *testing.T, body []byte) albBody {
		t.Helper()
		var b albBody
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		return b
	}
	var shape string
	t.Run("status and single-value headers", func(t *testing.T) {
		code, h, body := e.do("GET", "/same?a=1&a=2", nil, "X-Alb-Status", "201", "X-Dup", "1", "X-Dup", "2")
		if code != 201 || strings.Join(h["X-Alb-Function"], ",") != "a" || strings.Join(h["Content-Type"], ",") != "application/json" {
			t.Fatalf("status %d headers %v body %s", code, h, body)
		}
		var ev struct {
			Path    string            `json:"path"`
			Query   map[string]string `json:"queryStringParameters"`
			Headers map[string]string `json:"headers"`
			MV      json.RawMessage   `json:"multiValueHeaders"`
		}
		json.Unmarshal(decode(t, body).Event, &ev)
		if ev.Path != "/same" || ev.Query["a"] != "2" || ev.Headers["x-dup"] != "2" || ev.MV != nil {
			t.Errorf("event %+v", ev)
		}
		var keys []string
		var m map[string]any
		json.Unmarshal(body, &m)
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		shape = fmt.Sprintf("%d %v %v", code, h["X-Alb-Function"], keys)
	})
	t.Run("multi-value headers", func(t *testing.T) {
		code, h, body := e.do("GET", "/same?a=1&a=2", nil, "X-Mode", "multi", "X-Dup", "1", "X-Dup", "2")
		if code != 200 || strings.Join(h["X-Alb-Function"], ",") != "a,b" {
			t.Fatalf("status %d headers %v body %s", code, h, body)
		}
		var ev struct {
			Query   map[string][]string `json:"multiValueQueryStringParameters"`
			Headers map[string][]string `json:"multiValueHeaders"`
		}
		json.Unmarshal(decode(t, body).Event, &ev)
		if strings.Join(ev.Query["a"], ",") != "1,2" || strings.Join(ev.Headers["x-dup"], ",") != "1,2" {
			t.Errorf("event %+v", ev)
		}
	})
	t.Run("binary body round trip", func(t *testing.T) {
		in := make([]byte, 256)
		for i := range in {
			in[i] = byte(i)
		}
		code, h, body := e.do("POST", "/binary", in, "Content-Type", "application/octet-stream")
		if code != 200 || !bytes.Equal(body, in) || strings.Join(h["Content-Type"], ",") != "application/octet-stream" {
			t.Errorf("status %d headers %v body %x", code, h, body)
		}
	})
	t.Run("module-level state survives between invocations", func(t *testing.T) {
		_, _, b1 := e.do("GET", "/count", nil)
		_, _, b2 := e.do("GET", "/count", nil)
		if c1, c2 := decode(t, b1).Count, decode(t, b2).Count; c1 < 1 || c2 != c1+1 {
			t.Errorf("counts %d then %d: init ran again", c1, c2)
		}
	})
	t.Run("context", func(t *testing.T) {
		_, _, body := e.do("GET", "/context", nil)
		c := decode(t, body).Context
		if c.FunctionName != "fn" || c.FunctionVersion != "$LATEST" || c.InvokedFunctionArn != fnARN || c.MemoryLimitInMB != "128" ||
			c.LogGroupName != "/aws/lambda/fn" || !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(c.AwsRequestID) ||
			!regexp.MustCompile(`^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$`).MatchString(c.LogStreamName) {
			t.Errorf("context %+v", c)
		}
		if c.RemainingTimeInMillis <= 0 || c.RemainingTimeInMillis > 1000 {
			t.Errorf("remaining time %d ms of a 1 s timeout", c.RemainingTimeInMillis)
		}
	})
	t.Run("log lines", func(t *testing.T) {
		_, _, body := e.do("GET", "/log", nil)
		id := decode(t, body).Context.AwsRequestID
		re := regexp.MustCompile(strings.ReplaceAll(tt.logLine, "%s", regexp.QuoteMeta(id)))
		deadline := time.Now().Add(5 * time.Second)
		for !re.MatchString(e.log.String()) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !re.MatchString(e.log.String()) {
			t.Errorf("log lacks a line matching %s", re)
		}
	})
	t.Run("layer", func(t *testing.T) {
		code, _, body := e.do("GET", "/layer", nil)
		if code != 200 || string(body) != "hello from the layer" {
			t.Errorf("status %d body %q", code, body)
		}
	})
	client := lambda.New(lambda.Options{
		BaseEndpoint: aws.String(e.admin),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	t.Run("function error", func(t *testing.T) {
		if code, _, _ := e.do("GET", "/error", nil); code != 502 {
			t.Errorf("listener: status %d, want 502", code)
		}
		out, err := client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("fn"),
			Payload: []byte(`{"httpMethod":"GET","path":"/error","headers":{},"queryStringParameters":{},"body":"","isBase64Encoded":false}`)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.FunctionError) != "Unhandled" || !regexp.MustCompile(tt.errShape).Match(out.Payload) {
			t.Errorf("Invoke API: FunctionError %q payload %s, want %s", aws.ToString(out.FunctionError), out.Payload, tt.errShape)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		if code, _, body := e.do("GET", "/sleep?ms=1500", nil); code != 502 {
			t.Errorf("status %d, want 502: %s", code, body)
		}
		if code, _, _ := e.do("GET", "/after-timeout", nil); code != 200 {
			t.Errorf("after the timeout: status %d, want 200", code)
		}
	})
	for i, ie := range initErrorCases[tt.lang] {
		t.Run("init error "+ie.errorType, func(t *testing.T) {
			if code, _, _ := e.do("GET", ie.path, nil); code != 502 {
				t.Errorf("listener: status %d, want 502", code)
			}
			out, err := client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(fmt.Sprintf("init%d", i)), Payload: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			var p struct {
				ErrorType string `json:"errorType"`
			}
			json.Unmarshal(out.Payload, &p)
			if aws.ToString(out.FunctionError) != "Unhandled" || p.ErrorType != ie.errorType {
				t.Errorf("Invoke API: %q %s, want %s", aws.ToString(out.FunctionError), out.Payload, ie.errorType)
			}
		})
	}
	t.Run("extension registers and gets SHUTDOWN", func(t *testing.T) {
		if !strings.Contains(e.log.String(), "[fn] EXTENSION\tName: alb-ext\tState: Ready\tEvents: [SHUTDOWN]\n") {
			t.Errorf("no EXTENSION line in the log")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := e.s.pool.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(e.log.String(), "[fn] [alb-ext] event SHUTDOWN spindown") {
			t.Errorf("the extension got no SHUTDOWN event:\n%s", e.log.String())
		}
	})
	return shape
}
