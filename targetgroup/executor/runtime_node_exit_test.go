package executor

import (
	"strings"
	"testing"
)

// A Node.js function that leaves a rejected promise behind answers its own
// request; its runtime then exits (128, as AWS's client does) without
// asking for another invocation, so the request after it gets a new
// environment instead of failing with the exit. The runtime client used to
// send GET /next with the result, before Node ran the unhandledRejection
// handler: the next invocation was handed to a runtime about to exit
// (502 Runtime.ExitError for an innocent request, about 1 in 4 here).
func TestNodeExitAfterResultTakesNoInvocation(t *testing.T) {
	t.Parallel()
	rt := localRuntime(t, "node")
	fn := managedFn(t, "node", rt, "index.handler", map[string]string{"index.js": `
exports.handler = async (event) => {
  if (event.reject) Promise.reject(new Error('rejected later'));
  return {ok: event.n};
};`})
	p, flog := newTestPool(t, Options{RuntimeDir: t.TempDir()}, fn)
	for i := range 8 {
		n := strings.Repeat("1", i+1)
		if resp := invoke(t, p, "node", `{"reject":true,"n":`+n+`}`); resp.FunctionError != "" {
			t.Fatalf("round %d: the rejecting invocation: %s %s", i, resp.ErrorType, resp.Payload)
		} else if string(resp.Payload) != `{"ok":`+n+`}` {
			t.Fatalf("round %d: the rejecting invocation answered %s", i, resp.Payload)
		}
		if resp := invoke(t, p, "node", `{"n":`+n+`}`); resp.FunctionError != "" {
			t.Fatalf("round %d: the invocation after it: %s %s\n%s", i, resp.ErrorType, resp.Payload, flog.String())
		}
	}
	if !strings.Contains(flog.String(), "Runtime.UnhandledPromiseRejection") {
		t.Errorf("log lacks the rejection:\n%s", flog.String())
	}
}
