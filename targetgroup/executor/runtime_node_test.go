package executor

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// nodeCase is one Node.js function and what its invocation must give.
type nodeCase struct {
	name    string
	handler string
	files   map[string]string
	env     map[string]string
	event   string
	// want: the payload (compared as JSON) on success; for a function
	// error, wantType is the errorType and want a substring of the
	// errorMessage.
	want     string
	wantType string
	wantLog  []string // substrings of the function log
}

func runNodeCases(t *testing.T, tests []nodeCase) {
	rt := localRuntime(t, "node")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn := managedFn(t, "node", rt, tt.handler, tt.files)
			fn.Environment = tt.env
			p, flog := newTestPool(t, Options{RuntimeDir: t.TempDir()}, fn)
			event := tt.event
			if event == "" {
				event = `{"in":1}`
			}
			resp := invoke(t, p, "node", event)
			checkManaged(t, resp, tt.want, tt.wantType)
			for _, w := range tt.wantLog {
				if !strings.Contains(flog.String(), w) {
					t.Errorf("log lacks %q:\n%s", w, flog.String())
				}
			}
		})
	}
}

// checkManaged compares a response with a JSON payload or an error.
func checkManaged(t *testing.T, resp Response, want, wantType string) {
	t.Helper()
	if wantType == "" {
		if resp.FunctionError != "" {
			t.Fatalf("function error %s: %s", resp.ErrorType, resp.Payload)
		}
		var got, exp any
		if err := json.Unmarshal(resp.Payload, &got); err != nil {
			t.Fatalf("payload %q: %v", resp.Payload, err)
		}
		if err := json.Unmarshal([]byte(want), &exp); err != nil {
			t.Fatalf("want %q: %v", want, err)
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(exp)
		if string(g) != string(w) {
			t.Errorf("payload %s, want %s", g, w)
		}
		return
	}
	if resp.FunctionError != FunctionErrorUnhandled {
		t.Fatalf("no function error: %s", resp.Payload)
	}
	var e struct {
		ErrorType    string   `json:"errorType"`
		ErrorMessage string   `json:"errorMessage"`
		Trace        []string `json:"trace"`
	}
	if err := json.Unmarshal(resp.Payload, &e); err != nil {
		t.Fatalf("error payload %q: %v", resp.Payload, err)
	}
	if e.ErrorType != wantType || !strings.Contains(e.ErrorMessage, want) {
		t.Errorf("error %s %q, want %s containing %q", e.ErrorType, e.ErrorMessage, wantType, want)
	}
}

func TestNodeModules(t *testing.T) {
	t.Parallel()
	const body = `async (event, context) => ({kind: KIND, event})`
	runNodeCases(t, []nodeCase{
		{name: "CommonJS .js", handler: "index.handler",
			files: map[string]string{"index.js": "const KIND = 'cjs'; exports.handler = " + body},
			want:  `{"kind":"cjs","event":{"in":1}}`},
		{name: "ES module .mjs", handler: "index.handler",
			files: map[string]string{"index.mjs": "const KIND = 'mjs'; export const handler = " + body},
			want:  `{"kind":"mjs","event":{"in":1}}`},
		{name: ".js with type module", handler: "src/api/app.handler",
			files: map[string]string{"package.json": `{"type":"module"}`, "src/api/app.js": "const KIND = 'esm'; export const handler = " + body},
			want:  `{"kind":"esm","event":{"in":1}}`},
		{name: ".js with type commonjs", handler: "app.handler",
			files: map[string]string{"package.json": `{"type":"commonjs"}`, "app.js": "const KIND = 'cjs2'; module.exports.handler = " + body},
			want:  `{"kind":"cjs2","event":{"in":1}}`},
		{name: ".cjs", handler: "lib/app.handler",
			files: map[string]string{"package.json": `{"type":"module"}`, "lib/app.cjs": "const KIND = 'cjs3'; exports.handler = " + body},
			want:  `{"kind":"cjs3","event":{"in":1}}`},
		{name: "nested export", handler: "index.api.v1.handler",
			files: map[string]string{"index.js": "const KIND = 'nested'; exports.api = {v1: {handler: " + body + "}}"},
			want:  `{"kind":"nested","event":{"in":1}}`},
		{name: "node_modules package", handler: "pkg.handler",
			files: map[string]string{"node_modules/pkg/index.js": "const KIND = 'pkg'; exports.handler = " + body},
			want:  `{"kind":"pkg","event":{"in":1}}`},
	})
}

func TestNodeHandlerStyles(t *testing.T) {
	t.Parallel()
	runNodeCases(t, []nodeCase{
		{name: "callback waits for the empty event loop", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = (event, context, callback) => {
				const out = {v: 1};
				setTimeout(() => { out.v = 2; }, 30);
				callback(null, out);
			};`},
			want: `{"v":2}`},
		{name: "callback without waiting", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = (event, context, callback) => {
				context.callbackWaitsForEmptyEventLoop = false;
				const out = {v: 1};
				setTimeout(() => { out.v = 2; }, 30);
				callback(null, out);
			};`},
			want: `{"v":1}`},
		{name: "callback error", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = (e, c, cb) => cb(new TypeError("bad input"));`},
			want:  "bad input", wantType: "TypeError", wantLog: []string{"\tERROR\tInvoke Error \t{\"errorType\":\"TypeError\",\"errorMessage\":\"bad input\""}},
		{name: "callback string error", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = (e, c, cb) => cb("just a string");`},
			want:  "just a string", wantType: "string"},
		{name: "context.succeed", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = (e, context) => { context.succeed({ok: true}); context.succeed({ok: false}); };`},
			want:  `{"ok":true}`},
		{name: "context.fail", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = (e, context) => { context.fail(new Error("failed")); };`},
			want:  "failed", wantType: "Error"},
		{name: "context.done", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = (e, context) => { context.done(null, [1, 2]); };`},
			want:  `[1,2]`},
		{name: "sync handler never calling back", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = (e, context) => "ignored";`},
			want:  `null`},
		{name: "async handler returning undefined", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = async () => {};`},
			want:  `null`},
		{name: "async handler never settling", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = async () => new Promise(() => {});`},
			want:  "Promise that was never settled", wantType: "Runtime.NodeJsExit"},
		{name: "thrown error", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = async () => { const e = new Error("boom"); e.code = "E_BOOM"; throw e; };`},
			want:  "boom", wantType: "Error",
			wantLog: []string{"\tERROR\tInvoke Error \t{\"errorType\":\"Error\",\"errorMessage\":\"boom\",\"code\":\"E_BOOM\",\"stack\":[\"Error: boom\""}},
		{name: "uncaught exception in a timer", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = async () => { setTimeout(() => { throw new RangeError("late"); }, 1); await new Promise(r => setTimeout(r, 1000)); };`},
			want:  "late", wantType: "RangeError", wantLog: []string{"\tERROR\tUncaught Exception \t{\"errorType\":\"RangeError\""}},
		{name: "unserializable result", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = async () => { const a = {}; a.a = a; return a; };`},
			want:  "Unable to stringify response body", wantType: "Error"},
		{name: "callback deprecation warning", handler: "index.handler",
			files:   map[string]string{"index.js": `exports.handler = (e, c, cb) => cb(null, 1);`},
			want:    `1`,
			wantLog: []string{"\tundefined\tWARN\tAWS Lambda plans to remove support for callback-based function handlers"}},
	})
}

func TestNodeInitErrors(t *testing.T) {
	t.Parallel()
	runNodeCases(t, []nodeCase{
		{name: "module not found", handler: "missing.handler",
			files: map[string]string{"index.js": `exports.handler = async () => 1;`},
			want:  "Cannot find module 'missing'", wantType: "Runtime.ImportModuleError",
			wantLog: []string{"\tundefined\tERROR\tUncaught Exception \t{\"errorType\":\"Runtime.ImportModuleError\""}},
		{name: "handler not exported", handler: "index.nothere",
			files: map[string]string{"index.js": `exports.handler = async () => 1;`},
			want:  "index.nothere is undefined or not exported", wantType: "Runtime.HandlerNotFound"},
		{name: "handler not a function", handler: "index.value",
			files: map[string]string{"index.js": `exports.value = 42;`},
			want:  "index.value is not a function", wantType: "Runtime.HandlerNotFound"},
		{name: "syntax error CommonJS", handler: "index.handler",
			files: map[string]string{"index.js": `exports.handler = async () => {;`},
			want:  "SyntaxError", wantType: "Runtime.UserCodeSyntaxError"},
		{name: "syntax error ES module", handler: "index.handler",
			files: map[string]string{"index.mjs": `export const handler = async () => {;`},
			want:  "SyntaxError", wantType: "Runtime.UserCodeSyntaxError"},
		{name: "malformed handler", handler: "index",
			files: map[string]string{"index.js": `exports.handler = async () => 1;`},
			want:  "Bad handler", wantType: "Runtime.MalformedHandlerName"},
		{name: "relative path in handler", handler: "../index.handler",
			files: map[string]string{"index.js": `exports.handler = async () => 1;`},
			want:  "is not a valid handler name", wantType: "Runtime.MalformedHandlerName"},
		{name: "error at module load", handler: "index.handler",
			files: map[string]string{"index.js": `throw new Error("config missing");`},
			want:  "config missing", wantType: "Error"},
	})
}

func TestNodeContextAndLogs(t *testing.T) {
	t.Parallel()
	rt := localRuntime(t, "node")
	fn := managedFn(t, "ctx", rt, "index.handler", map[string]string{"index.js": `
		let count = 0;
		console.log("loaded %d", 1);
		exports.handler = async (event, context) => {
			count++;
			console.log("log %s %o", "a", {b: 1});
			console.info("info");
			console.warn("warn");
			console.error("error\nsecond line");
			console.debug("debug");
			console.trace("trace");
			process.stdout.write("raw line\n");
			const c = {...context};
			delete c.getRemainingTimeInMillis;
			return {count, remaining: context.getRemainingTimeInMillis(), context: c,
				trace: process.env._X_AMZN_TRACE_ID, execArgv: process.execArgv, nodePath: process.env.NODE_PATH,
				execEnv: process.env.AWS_EXECUTION_ENV, handler: process.env._HANDLER, taskRoot: process.env.LAMBDA_TASK_ROOT};
		};`})
	fn.MemorySize = 256
	p, flog := newTestPool(t, Options{RuntimeDir: t.TempDir()}, fn)
	ctx := t.Context()
	var last struct {
		Count     int            `json:"count"`
		Remaining int64          `json:"remaining"`
		Context   map[string]any `json:"context"`
		Trace     string         `json:"trace"`
		ExecArgv  []string       `json:"execArgv"`
		NodePath  string         `json:"nodePath"`
		ExecEnv   string         `json:"execEnv"`
		Handler   string         `json:"handler"`
		TaskRoot  string         `json:"taskRoot"`
	}
	var id string
	for i := 1; i <= 3; i++ {
		resp, err := p.Invoke(ctx, Request{Function: "ctx", Payload: []byte(`{}`), TraceID: "Root=1-5e1b4151-5ac6c58f5b5daa6532e4c0e6;Parent=1;Sampled=1",
			ClientContext: "eyJjdXN0b20iOnsiYSI6MX19", CognitoIdentity: `{"cognitoIdentityId":"id1","cognitoIdentityPoolId":"pool1"}`})
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(resp.Payload, &last); err != nil || resp.FunctionError != "" {
			t.Fatalf("%v %s", err, resp.Payload)
		}
		if last.Count != i {
			t.Errorf("invocation %d: module-level count %d (init ran again?)", i, last.Count)
		}
		id = resp.RequestID
	}
	c := last.Context
	want := map[string]any{
		"awsRequestId": id, "functionName": "ctx", "functionVersion": "$LATEST", "memoryLimitInMB": "256",
		"logGroupName": "/aws/lambda/ctx", "invokedFunctionArn": fn.ARN, "callbackWaitsForEmptyEventLoop": true,
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("context.%s = %v, want %v", k, c[k], v)
		}
	}
	if s, _ := c["logStreamName"].(string); !regexp.MustCompile(`^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$`).MatchString(s) {
		t.Errorf("logStreamName %q", s)
	}
	if cc, _ := json.Marshal(c["clientContext"]); string(cc) != `{"custom":{"a":1}}` {
		t.Errorf("clientContext %s", cc)
	}
	if idt, _ := json.Marshal(c["identity"]); string(idt) != `{"cognitoIdentityId":"id1","cognitoIdentityPoolId":"pool1"}` {
		t.Errorf("identity %s", idt)
	}
	if last.Remaining <= 0 || last.Remaining > 5000 {
		t.Errorf("remaining %d ms of a 5 s timeout", last.Remaining)
	}
	if last.Trace != "Root=1-5e1b4151-5ac6c58f5b5daa6532e4c0e6;Parent=1;Sampled=1" {
		t.Errorf("_X_AMZN_TRACE_ID %q", last.Trace)
	}
	// 256 MB: new space 25, semi space 12, old space 231.
	if got := strings.Join(last.ExecArgv, " "); got != "--expose-gc --max-http-header-size 81920 --max-semi-space-size=12 --max-old-space-size=231" {
		t.Errorf("execArgv %q", got)
	}
	if last.ExecEnv != "AWS_Lambda_"+rt || last.Handler != "index.handler" || last.TaskRoot != fn.Code || last.NodePath != fn.Code {
		t.Errorf("environment: %+v", last)
	}
	ts := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`
	for _, re := range []string{
		`(?m)^` + ts + `\tundefined\tINFO\tloaded 1$`,
		`(?m)^` + ts + `\t` + id + `\tINFO\tlog a \{ b: 1 \}$`,
		`(?m)^` + ts + `\t` + id + `\tINFO\tinfo$`,
		`(?m)^` + ts + `\t` + id + `\tWARN\twarn$`,
		`(?m)^` + ts + `\t` + id + `\tERROR\terror\rsecond line$`,
		`(?m)^` + ts + `\t` + id + `\tDEBUG\tdebug$`,
		`(?m)^` + ts + `\t` + id + `\tTRACE\ttrace$`,
		`(?m)^raw line$`,
	} {
		if !regexp.MustCompile(re).MatchString(flog.String()) {
			t.Errorf("log lacks a line matching %s:\n%s", re, flog.String())
		}
	}
}

// TestNodeHeapOptions: a heap size in NODE_OPTIONS keeps albedo's flags
// away, as Lambda's bootstrap does.
func TestNodeHeapOptions(t *testing.T) {
	if got := nodeHeapArgs(128, ""); strings.Join(got, " ") != "--max-semi-space-size=6 --max-old-space-size=116" {
		t.Errorf("128 MB: %q", got)
	}
	if got := nodeHeapArgs(10240, ""); strings.Join(got, " ") != "--max-semi-space-size=512 --max-old-space-size=9216" {
		t.Errorf("10240 MB: %q", got)
	}
	for _, opts := range []string{"--max-old-space-size=64", "--max_semi_space_size=2", "--inspect --max-semi-space-size=1"} {
		if got := nodeHeapArgs(512, opts); got != nil {
			t.Errorf("NODE_OPTIONS %q: %q, want none", opts, got)
		}
	}
}

// TestNodeLayers: a module in a layer's nodejs/node_modules is found
// through NODE_PATH, a later layer's copy first, and nodejs/nodeN first
// of all; bin directories end PATH.
func TestNodeLayers(t *testing.T) {
	t.Parallel()
	rt := localRuntime(t, "node")
	major := strings.TrimSuffix(strings.TrimPrefix(rt, "nodejs"), ".x")
	l1, l2 := t.TempDir(), t.TempDir()
	writeTree(t, l1, map[string]string{
		"nodejs/node_modules/shared/index.js": `module.exports = "layer1";`,
		"nodejs/node_modules/only1/index.js":  `module.exports = "only in layer1";`,
		"bin/tool1":                           "#!/bin/sh\necho tool1\n",
	})
	writeTree(t, l2, map[string]string{
		"nodejs/node_modules/shared/index.js":                      `module.exports = "layer2";`,
		"nodejs/node" + major + "/node_modules/versioned/index.js": `module.exports = "versioned";`,
		"nodejs/node_modules/versioned/index.js":                   `module.exports = "unversioned";`,
	})
	fn := managedFn(t, "layers", rt, "index.handler", map[string]string{"index.js": `
		exports.handler = async () => ({shared: require("shared"), only1: require("only1"), versioned: require("versioned"),
			tool: require("child_process").execSync("tool1").toString().trim()});`})
	fn.Layers = []string{l1, l2}
	p, _ := newTestPool(t, Options{RuntimeDir: t.TempDir()}, fn)
	checkManaged(t, invoke(t, p, "layers", `{}`), `{"shared":"layer2","only1":"only in layer1","versioned":"versioned","tool":"tool1"}`, "")
}

// TestKeepAlive: one execution environment serves many invocations over
// one Runtime API connection, with one process and one module load, for
// both runtime clients.
func TestKeepAlive(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"node", "python"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			rt := localRuntime(t, lang)
			files := map[string]string{"index.js": `const pid = process.pid; let loads = (globalThis.loads || 0) + 1; globalThis.loads = loads;
				exports.handler = async () => ({pid, loads});`}
			handler := "index.handler"
			if lang == "python" {
				files = map[string]string{"app.py": "import os, builtins\nbuiltins.loads = getattr(builtins, 'loads', 0) + 1\ndef handler(e, c):\n    return {'pid': os.getpid(), 'loads': builtins.loads}\n"}
				handler = "app.handler"
			}
			p, _ := newTestPool(t, Options{RuntimeDir: t.TempDir()}, managedFn(t, "ka", rt, handler, files))
			var first string
			for i := 0; i < 20; i++ {
				resp := invoke(t, p, "ka", `{}`)
				if resp.FunctionError != "" {
					t.Fatalf("%s", resp.Payload)
				}
				if i == 0 {
					first = string(resp.Payload)
				} else if string(resp.Payload) != first {
					t.Fatalf("invocation %d answered %s, the first %s: another process or module load", i, resp.Payload, first)
				}
			}
			p.mu.Lock()
			var envs []*env
			for e := range p.all {
				envs = append(envs, e)
			}
			p.mu.Unlock()
			if len(envs) != 1 {
				t.Fatalf("%d environments, want 1", len(envs))
			}
			envs[0].api.mu.Lock()
			n := envs[0].api.accepted
			envs[0].api.mu.Unlock()
			if n != 1 {
				t.Errorf("%d Runtime API connections for 20 invocations, want 1", n)
			}
		})
	}
}
