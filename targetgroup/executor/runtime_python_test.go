package executor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type pythonError struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType"`
	RequestID    *string  `json:"requestId"`
	StackTrace   []string `json:"stackTrace"`
}

func TestPythonErrors(t *testing.T) {
	t.Parallel()
	rt := localRuntime(t, "python")
	tests := []struct {
		name     string
		handler  string
		files    map[string]string
		wantType string
		wantMsg  string
		init     bool // an init error: requestId is ""
		wantLog  []string
	}{
		{name: "raised in handler", handler: "app.handler",
			files:    map[string]string{"app.py": "def handler(event, context):\n    raise ValueError('boom')\n"},
			wantType: "ValueError", wantMsg: "boom",
			wantLog: []string{"[ERROR] ValueError: boom\rTraceback (most recent call last):\r\u00a0\u00a0File \""}},
		{name: "module not found", handler: "missing.handler",
			files:    map[string]string{"app.py": ""},
			wantType: "Runtime.ImportModuleError", wantMsg: "Unable to import module 'missing': No module named 'missing'", init: true,
			wantLog: []string{"[WARNING]\t", "LAMBDA_WARNING: Unhandled exception.", "[ERROR] Runtime.ImportModuleError: Unable to import module 'missing'"}},
		{name: "handler missing", handler: "app.nothere",
			files:    map[string]string{"app.py": "x = 1\n"},
			wantType: "Runtime.HandlerNotFound", wantMsg: "Handler 'nothere' missing on module 'app'", init: true},
		{name: "syntax error", handler: "app.handler",
			files:    map[string]string{"app.py": "def handler(event, context)\n    return 1\n"},
			wantType: "Runtime.UserCodeSyntaxError", wantMsg: "Syntax error in module 'app'", init: true},
		{name: "malformed handler", handler: "handler",
			files:    map[string]string{"app.py": ""},
			wantType: "Runtime.MalformedHandlerName", wantMsg: "Bad handler 'handler'", init: true},
		{name: "built-in module", handler: "sys.handler",
			files:    map[string]string{"app.py": ""},
			wantType: "Runtime.BuiltInModuleConflict", wantMsg: "Cannot use built-in module sys", init: true},
		{name: "raised at import", handler: "app.handler",
			files:    map[string]string{"app.py": "raise KeyError('CONFIG')\n"},
			wantType: "KeyError", wantMsg: "'CONFIG'", init: true},
		{name: "unmarshalable result", handler: "app.handler",
			files:    map[string]string{"app.py": "def handler(event, context):\n    return {1, 2}\n"},
			wantType: "Runtime.MarshalError", wantMsg: "Unable to marshal response: Object of type set is not JSON serializable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn := managedFn(t, "py", rt, tt.handler, tt.files)
			p, flog := newTestPool(t, Options{RuntimeDir: t.TempDir()}, fn)
			resp := invoke(t, p, "py", `{}`)
			var e pythonError
			if err := json.Unmarshal(resp.Payload, &e); err != nil || resp.FunctionError != FunctionErrorUnhandled {
				t.Fatalf("%v: %s %s", err, resp.FunctionError, resp.Payload)
			}
			if e.ErrorType != tt.wantType || !strings.Contains(e.ErrorMessage, tt.wantMsg) {
				t.Errorf("error %s %q, want %s %q", e.ErrorType, e.ErrorMessage, tt.wantType, tt.wantMsg)
			}
			wantID := resp.RequestID
			if tt.init {
				wantID = ""
			}
			if e.RequestID == nil || *e.RequestID != wantID || e.StackTrace == nil {
				t.Errorf("requestId %v (want %q), stackTrace %v: %s", e.RequestID, wantID, e.StackTrace, resp.Payload)
			}
			// The keys in Lambda's order.
			if !regexp.MustCompile(`^\{"errorMessage": .*, "errorType": .*, "requestId": .*, "stackTrace": \[`).Match(resp.Payload) {
				t.Errorf("payload shape %s", resp.Payload)
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(flog.String(), w) {
					t.Errorf("log lacks %q:\n%q", w, flog.String())
				}
			}
		})
	}
}

func TestPythonContextAndLogs(t *testing.T) {
	t.Parallel()
	rt := localRuntime(t, "python")
	fn := managedFn(t, "pyctx", rt, "pkg.app.handler", map[string]string{
		"pkg/__init__.py": "",
		"pkg/app.py": `import logging, os, sys
count = 0
print("loading")
logger = logging.getLogger()
logger.setLevel(logging.INFO)
def handler(event, context):
    global count
    count += 1
    print("printed", event["n"])
    logger.info("info %s", "arg")
    logging.warning("warned")
    logging.debug("hidden")
    try:
        {}["k"]
    except KeyError:
        logger.exception("caught")
    print("after")
    cc = context.client_context
    return {"count": count, "remaining": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id, "function_name": context.function_name,
        "function_version": context.function_version, "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb, "log_group": context.log_group_name, "log_stream": context.log_stream_name,
        "custom": cc.custom if cc else None, "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "trace": os.environ.get("_X_AMZN_TRACE_ID"), "exec_env": os.environ["AWS_EXECUTION_ENV"],
        "path0": sys.path[0], "private": "_ALBEDO_PYTHON_PATH" in os.environ, "unicode": "é"}
`})
	p, flog := newTestPool(t, Options{RuntimeDir: t.TempDir()}, fn)
	var last map[string]any
	var id string
	for i := 1; i <= 3; i++ {
		resp, err := p.Invoke(t.Context(), Request{Function: "pyctx", Payload: []byte(`{"n":` + string(rune('0'+i)) + `}`), TraceID: "Root=1-abc",
			ClientContext: "eyJjdXN0b20iOnsiYSI6MX19", CognitoIdentity: `{"cognitoIdentityId":"id1","cognitoIdentityPoolId":"pool1"}`})
		if err != nil || resp.FunctionError != "" {
			t.Fatalf("%v %s", err, resp.Payload)
		}
		last = nil
		if err := json.Unmarshal(resp.Payload, &last); err != nil {
			t.Fatal(err)
		}
		if last["count"] != float64(i) {
			t.Errorf("invocation %d: count %v (init ran again?)", i, last["count"])
		}
		id = resp.RequestID
	}
	want := map[string]any{"request_id": id, "function_name": "pyctx", "function_version": "$LATEST", "arn": fn.ARN,
		"memory": "256", "log_group": "/aws/lambda/pyctx", "trace": "Root=1-abc", "exec_env": "AWS_Lambda_" + rt,
		"path0": fn.Code, "private": false, "unicode": "é"}
	for k, v := range want {
		if last[k] != v {
			t.Errorf("%s = %v, want %v", k, last[k], v)
		}
	}
	if r, _ := last["remaining"].(float64); r <= 0 || r > 5000 {
		t.Errorf("remaining %v", last["remaining"])
	}
	if c, _ := json.Marshal(last["custom"]); string(c) != `{"a":1}` {
		t.Errorf("client_context.custom %s", c)
	}
	if idt, _ := json.Marshal(last["identity"]); string(idt) != `["id1","pool1"]` {
		t.Errorf("identity %s", idt)
	}
	ts := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`
	for _, re := range []string{
		`(?m)^loading$`,
		`(?m)^printed 3$`,
		`(?m)^\[INFO\]\t` + ts + `\t` + id + `\tinfo arg$`,
		`(?m)^\[WARNING\]\t` + ts + `\t` + id + `\twarned$`,
		// logger.exception: one record, one line, the traceback's last line included
		`(?m)^\[ERROR\]\t` + ts + `\t` + id + `\tcaught\rTraceback \(most recent call last\):\r[^\n]*\rKeyError: 'k'\nafter$`,
	} {
		if !regexp.MustCompile(re).MatchString(flog.String()) {
			t.Errorf("log lacks a line matching %s:\n%s", re, flog.String())
		}
	}
	if strings.Contains(flog.String(), "hidden") {
		t.Errorf("a debug record below the root level was logged")
	}
}

// TestPythonLayers: sys.path is the task root, then every layer's
// python/lib/python3.N/site-packages (latest layer first), then their
// python directories, then the interpreter's own.
func TestPythonLayers(t *testing.T) {
	t.Parallel()
	rt := localRuntime(t, "python")
	minor := strings.TrimPrefix(rt, "python3.")
	l1, l2 := t.TempDir(), t.TempDir()
	sp := "python/lib/python3." + minor + "/site-packages/"
	writeTree(t, l1, map[string]string{
		"python/shared.py": "WHO = 'layer1 python'\n",
		"python/only1.py":  "WHO = 'only layer1'\n",
	})
	writeTree(t, l2, map[string]string{
		"python/shared.py": "WHO = 'layer2 python'\n",
		sp + "sitemod.py":  "WHO = 'layer2 site-packages'\n",
		sp + "shared2.py":  "WHO = 'layer2 site'\n",
	})
	fn := managedFn(t, "pylayers", rt, "app.handler", map[string]string{"app.py": `import sys, shared, only1, sitemod
def handler(event, context):
    return {"shared": shared.WHO, "only1": only1.WHO, "sitemod": sitemod.WHO, "path": sys.path[:5]}
`})
	fn.Layers = []string{l1, l2}
	p, _ := newTestPool(t, Options{RuntimeDir: t.TempDir()}, fn)
	resp := invoke(t, p, "pylayers", `{}`)
	var got struct {
		Shared, Only1, Sitemod string
		Path                   []string
	}
	if err := json.Unmarshal(resp.Payload, &got); err != nil || resp.FunctionError != "" {
		t.Fatalf("%v %s", err, resp.Payload)
	}
	if got.Shared != "layer2 python" || got.Only1 != "only layer1" || got.Sitemod != "layer2 site-packages" {
		t.Errorf("modules: %+v", got)
	}
	wantPath := []string{fn.Code, filepath.Join(l2, sp[:len(sp)-1]), filepath.Join(l1, sp[:len(sp)-1]), filepath.Join(l2, "python"), filepath.Join(l1, "python")}
	if strings.Join(got.Path, "\n") != strings.Join(wantPath, "\n") {
		t.Errorf("sys.path starts\n%s\nwant\n%s", strings.Join(got.Path, "\n"), strings.Join(wantPath, "\n"))
	}
}

// TestExecWrapper: AWS_LAMBDA_EXEC_WRAPPER runs with the interpreter's
// command line, as Lambda's bootstrap runs it; a missing wrapper is exit
// 127 with Lambda's message.
func TestExecWrapper(t *testing.T) {
	t.Parallel()
	rt := localRuntime(t, "python")
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "wrapper")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nexport WRAPPED=\"$#:$(basename \"$2\")\"\necho wrapper ran\nexec \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, wrapper, want, wantType, wantLog string
	}{
		{name: "wrapper", wrapper: wrapper, want: `"2:bootstrap.py"`, wantLog: "wrapper ran"},
		{name: "missing", wrapper: filepath.Join(dir, "nothere"), wantType: ErrorTypeExit, want: "exit status 127", wantLog: filepath.Join(dir, "nothere") + ": does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn := managedFn(t, "wrapped", rt, "app.handler", map[string]string{"app.py": "import os\ndef handler(e, c):\n    return os.environ.get('WRAPPED')\n"})
			fn.Environment = map[string]string{"AWS_LAMBDA_EXEC_WRAPPER": tt.wrapper}
			p, flog := newTestPool(t, Options{RuntimeDir: t.TempDir()}, fn)
			resp := invoke(t, p, "wrapped", `{}`)
			if tt.wantType == "" {
				checkManaged(t, resp, tt.want, "")
			} else if resp.ErrorType != tt.wantType || !strings.Contains(string(resp.Payload), tt.want) {
				t.Errorf("%s %s, want %s %s", resp.ErrorType, resp.Payload, tt.wantType, tt.want)
			}
			if !strings.Contains(flog.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, flog.String())
			}
		})
	}
}

// TestPythonDecimal: Decimals (what boto3 returns for DynamoDB numbers)
// encode as JSON numbers, as Lambda's marshaller does.
func TestPythonDecimal(t *testing.T) {
	t.Parallel()
	rt := localRuntime(t, "python")
	fn := managedFn(t, "dec", rt, "app.handler", map[string]string{"app.py": "from decimal import Decimal\ndef handler(e, c):\n    return {'f': Decimal('1.5'), 'i': Decimal('3'), 'neg': Decimal('-0.25')}\n"})
	p, _ := newTestPool(t, Options{RuntimeDir: t.TempDir()}, fn)
	checkManaged(t, invoke(t, p, "dec", `{}`), `{"f":1.5,"i":3,"neg":-0.25}`, "")
}
