package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// benchHandlers are the benchmark's function in each runtime: the same
// trivial ALB handler answering 200 "ok" as text/plain, like the builtin
// noop (go). The node one is the handler.js to compare with other tools.
var benchHandlers = map[string]struct{ file, text, handler string }{
	"go": {},
	"node": {"handler.js", `exports.handler = async (event) => ({
  statusCode: 200,
  statusDescription: '200 OK',
  headers: { 'Content-Type': 'text/plain' },
  body: 'ok',
  isBase64Encoded: false,
});
`, "handler.handler"},
	"python": {"app.py", `def handler(event, context):
    return {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "headers": {"Content-Type": "text/plain"},
        "body": "ok",
        "isBase64Encoded": False,
    }
`, "app.handler"},
}

// benchFunction writes kind's handler under dir and returns the function's
// runtime, handler and code lines of albedo.yaml, for the interpreter on
// PATH.
func benchFunction(dir, kind string) (string, error) {
	h := benchHandlers[kind]
	if kind == "go" {
		return "    runtime: builtin\n    handler: noop\n", nil
	}
	runtime := ""
	for _, rt := range localRuntimeCandidates(kind) {
		if _, err := executor.ProbeInterpreter(rt, ""); err == nil {
			runtime = rt
			break
		}
	}
	if runtime == "" {
		return "", fmt.Errorf("no %s interpreter on PATH for -runtime %s", kind, kind)
	}
	code := filepath.Join(dir, "fn-"+kind)
	if err := os.MkdirAll(code, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(code, h.file), []byte(h.text), 0o644); err != nil {
		return "", err
	}
	return fmt.Sprintf("    runtime: %s\n    handler: %s\n    code: %q\n", runtime, h.handler, code), nil
}

// localRuntimeCandidates are the runtime names to try for the interpreter
// on PATH, newest first (ProbeInterpreter accepts the first not newer than
// it).
func localRuntimeCandidates(kind string) []string {
	var out []string
	for v := 40; v >= 8; v-- {
		if kind == "node" {
			out = append(out, "nodejs"+strconv.Itoa(v)+".x")
		} else {
			out = append(out, "python3."+strconv.Itoa(v))
		}
	}
	return out
}

// coldResult is the end-to-end latency of first requests to new
// execution environments.
type coldResult struct {
	target  string
	samples []time.Duration
}

// coldStarts starts albedo with a 1 s idle timeout and sends n requests,
// each after the previous environment was stopped for being idle, so
// each one is a cold start: process start, runtime client and handler
// init, then the invocation.
func coldStarts(self, dir, fn string, n int) (coldResult, error) {
	port, err := freePort()
	if err != nil {
		return coldResult{}, err
	}
	cfgPath := filepath.Join(dir, "cold.yaml")
	if err := os.WriteFile(cfgPath, []byte(benchConfig(port, filepath.Join(dir, "state-cold"), 16, "1s", fn)), 0o644); err != nil {
		return coldResult{}, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	albedo, err := startChild(self, []string{"serve", "-config", cfgPath}, addr)
	if err != nil {
		return coldResult{}, err
	}
	defer stopChild(albedo)
	client := &fasthttp.HostClient{Addr: addr, ReadTimeout: 30 * time.Second}
	var r coldResult
	for i := range n {
		if i > 0 {
			time.Sleep(1600 * time.Millisecond) // idle_timeout 1 s, reaped within 250 ms
		}
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://" + addr + "/")
		req.SetConnectionClose()
		t := time.Now()
		err := client.Do(req, resp)
		el := time.Since(t)
		status := resp.StatusCode()
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		if err != nil || status != 200 {
			return r, fmt.Errorf("request %d: status %d, %v", i, status, err)
		}
		r.samples = append(r.samples, el)
	}
	return r, nil
}

func printCold(w io.Writer, cs []coldResult) {
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n| target | cold starts | min | median | max |\n|---|---:|---:|---:|---:|\n")
	for _, c := range cs {
		s := slices.Sorted(slices.Values(c.samples))
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s |\n", c.target, len(s), fmtDur(s[0]), fmtDur(s[len(s)/2]), fmtDur(s[len(s)-1]))
	}
}
