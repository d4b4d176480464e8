package executor

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// newAPIEnv returns an environment with no process, for driving its
// Runtime API directly.
func newAPIEnv(t testing.TB) *env {
	t.Helper()
	p, err := New(Options{FunctionLog: io.Discard}, []Function{{
		Name: "api", ARN: "arn:aws:lambda:us-east-1:123456789012:function:api", Code: "/nonexistent",
		Timeout: time.Second, Region: "us-east-1",
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	e := newEnv(p, p.set.Load().byName["api"])
	e.start = time.Now()
	return e
}

// offer hands inv to the environment as Pool.deliver does: at once to a
// parked /next, or to the next one.
func offer(e *env, inv *invocation) {
	inv.start = time.Now()
	inv.deadline = inv.start.Add(time.Second)
	e.handOff(inv)
}

// serveAPI serves e's Runtime API on a loopback port until the test ends
// and returns its base URL.
func serveAPI(t testing.TB, e *env) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newAPIServer(e, ln)
	go s.serve()
	t.Cleanup(s.close)
	return "http://" + ln.Addr().String()
}

func newInv(id, payload string) *invocation {
	return &invocation{id: id, payload: []byte(payload), traceID: "Root=1-00000000-000000000000000000000000;Sampled=0",
		clientContext: `{"custom":{"k":"v"}}`, cognito: `{"cognitoIdentityId":"i","cognitoIdentityPoolId":"p"}`,
		done: make(chan result, 1)}
}

// chunked is a body without a length, so net/http sends it chunked.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func post(t testing.TB, url string, body io.Reader, trailer http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Trailer = trailer
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRuntimeAPIInvocationFlow(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	base := serveAPI(t, e) + "/2018-06-01/runtime/"

	inv := newInv("11111111-2222-4333-8444-555555555555", `{"hello":"world"}`)
	go offer(e, inv)
	resp, err := http.Get(base + "invocation/next")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"hello":"world"}` {
		t.Fatalf("next = %d %q", resp.StatusCode, body)
	}
	for h, want := range map[string]string{
		"Lambda-Runtime-Aws-Request-Id":       inv.id,
		"Lambda-Runtime-Deadline-Ms":          strconv.FormatInt(inv.deadline.UnixMilli(), 10),
		"Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:api",
		"Lambda-Runtime-Trace-Id":             inv.traceID,
		"Lambda-Runtime-Client-Context":       inv.clientContext,
		"Lambda-Runtime-Cognito-Identity":     inv.cognito,
		"Content-Type":                        "application/json",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	select {
	case <-e.ready:
	default:
		t.Error("first /next did not end init")
	}
	// A second /next while the invocation is in flight is out of order.
	if r, err := http.Get(base + "invocation/next"); err != nil || r.StatusCode != 403 {
		t.Errorf("/next during invocation: %v %v", r.StatusCode, err)
	}

	// Wrong id: 400 before anything else.
	if code, b := post(t, base+"invocation/other-id/response", strings.NewReader("x"), nil); code != 400 || b != `{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}` {
		t.Errorf("wrong id = %d %s", code, b)
	}
	// Chunked with (empty) trailers, as aws-lambda-go sends it.
	trailer := http.Header{"Lambda-Runtime-Function-Error-Type": nil, "Lambda-Runtime-Function-Error-Body": nil}
	code, b := post(t, base+"invocation/"+inv.id+"/response", chunked{strings.NewReader(`{"ok":true}`)}, trailer)
	if code != 202 || b != `{"status":"OK"}` {
		t.Errorf("response = %d %s", code, b)
	}
	res := <-inv.done
	if string(res.payload) != `{"ok":true}` || res.functionError {
		t.Errorf("result = %+v", res)
	}
	// Answering twice is out of order.
	if code, _ := post(t, base+"invocation/"+inv.id+"/error", strings.NewReader("{}"), nil); code != 403 {
		t.Errorf("second answer = %d, want 403", code)
	}
	// init/error after init is out of order.
	if code, _ := post(t, base+"init/error", strings.NewReader("{}"), nil); code != 403 {
		t.Errorf("late init/error = %d, want 403", code)
	}
}

func TestRuntimeAPIResults(t *testing.T) {
	t.Parallel()
	errBody := `{"errorMessage":"midway","errorType":"Stream.Broken"}`
	tests := []struct {
		name        string
		action      string
		body        io.Reader
		trailer     http.Header
		header      map[string]string
		wantCode    int
		wantFnErr   bool
		wantType    string
		wantPayload string
	}{
		{name: "error passthrough", action: "error", body: strings.NewReader(`{"errorMessage":"x","errorType":"errorString","stackTrace":[{"path":"a","line":1,"label":"f"}]}`),
			wantCode: 202, wantFnErr: true, wantPayload: `{"errorMessage":"x","errorType":"errorString","stackTrace":[{"path":"a","line":1,"label":"f"}]}`},
		{name: "error without body", action: "error", body: http.NoBody, header: map[string]string{"Lambda-Runtime-Function-Error-Type": "Runtime.Custom"},
			wantCode: 202, wantFnErr: true, wantPayload: `{"errorMessage":"","errorType":"Runtime.Custom"}`},
		{name: "error in trailers", action: "response", body: chunked{strings.NewReader(`{"partial":`)},
			trailer:  http.Header{"Lambda-Runtime-Function-Error-Type": {"Stream.Broken"}, "Lambda-Runtime-Function-Error-Body": {base64.StdEncoding.EncodeToString([]byte(errBody))}},
			wantCode: 202, wantFnErr: true, wantPayload: errBody},
		{name: "response at limit", action: "response", body: chunked{bytes.NewReader(make([]byte, MaxResponseSize))},
			wantCode: 202, wantPayload: string(make([]byte, MaxResponseSize))},
		{name: "response too large chunked", action: "response", body: chunked{bytes.NewReader(make([]byte, MaxResponseSize+1))},
			wantCode: 413, wantFnErr: true, wantType: ErrorTypeResponseTooLarge,
			wantPayload: `{"errorMessage":"Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}`},
		{name: "error too large with length", action: "error", body: bytes.NewReader(make([]byte, 7<<20)),
			wantCode: 413, wantFnErr: true, wantType: ErrorTypeResponseTooLarge,
			wantPayload: `{"errorMessage":"Response payload size (7340032 bytes) exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newAPIEnv(t)
			url := serveAPI(t, e)
			inv := newInv("id-"+strconv.Itoa(len(tt.name)), `{}`)
			go offer(e, inv)
			r, err := http.Get(url + "/2018-06-01/runtime/invocation/next")
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			req, _ := http.NewRequest(http.MethodPost, url+"/2018-06-01/runtime/invocation/"+inv.id+"/"+tt.action, tt.body)
			req.Trailer = tt.trailer
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode {
				t.Errorf("status = %d %s, want %d", resp.StatusCode, b, tt.wantCode)
			}
			if tt.wantCode == 413 && string(b) != `{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}` {
				t.Errorf("413 body = %s", b)
			}
			res := <-inv.done
			if res.functionError != tt.wantFnErr || res.errorType != tt.wantType || string(res.payload) != tt.wantPayload {
				t.Errorf("result = fnErr %v type %q payload %.200q", res.functionError, res.errorType, res.payload)
			}
		})
	}
}

func TestRuntimeAPIRouting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		wantCode                 int
		wantBody                 string
	}{
		{name: "unknown path", method: "GET", path: "/2018-06-01/runtime/nothing", wantCode: 404},
		{name: "root", method: "GET", path: "/", wantCode: 404},
		{name: "next with POST", method: "POST", path: "/2018-06-01/runtime/invocation/next", wantCode: 405},
		{name: "response with GET", method: "GET", path: "/2018-06-01/runtime/invocation/x/response", wantCode: 405},
		{name: "unknown id", method: "POST", path: "/2018-06-01/runtime/invocation/x/response", wantCode: 400},
		{name: "empty id", method: "POST", path: "/2018-06-01/runtime/invocation//response", wantCode: 404},
		{name: "bad action", method: "POST", path: "/2018-06-01/runtime/invocation/x/other", wantCode: 404},
		{name: "init error", method: "POST", path: "/2018-06-01/runtime/init/error", body: `{"errorMessage":"m","errorType":"T"}`,
			wantCode: 202, wantBody: `{"status":"OK"}`},
		{name: "register without name", method: "POST", path: "/2020-01-01/extension/register", wantCode: 403},
		{name: "register", method: "POST", path: "/2020-01-01/extension/register", body: `{"events":[]}`,
			header: map[string]string{"Lambda-Extension-Name": "GoLangEnableSIGTERM"}, wantCode: 200,
			wantBody: `{"functionName":"api","functionVersion":"$LATEST","handler":"bootstrap"}`},
		{name: "extension exit error", method: "POST", path: "/2020-01-01/extension/exit/error", wantCode: 202},
		{name: "event next without identifier", method: "GET", path: "/2020-01-01/extension/event/next", wantCode: 403,
			wantBody: `{"errorMessage":"Unknown Lambda-Extension-Identifier","errorType":"Extension.UnknownExtensionIdentifier"}`},
		{name: "event next with an unknown identifier", method: "GET", path: "/2020-01-01/extension/event/next",
			header: map[string]string{"Lambda-Extension-Identifier": "00000000-0000-4000-8000-000000000000"}, wantCode: 403,
			wantBody: `{"errorMessage":"Unknown Lambda-Extension-Identifier","errorType":"Extension.UnknownExtensionIdentifier"}`},
		{name: "logs api", method: "PUT", path: "/2020-08-15/logs", wantCode: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newAPIEnv(t)
			req, err := http.NewRequest(tt.method, serveAPI(t, e)+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode {
				t.Errorf("status = %d %s, want %d", resp.StatusCode, body, tt.wantCode)
			}
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body = %s, want %s", body, tt.wantBody)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

// TestNextHeadersCannotBreakFraming: header values of the /next answer
// come from callers (a pretty-printed client context, a trace header, a
// caller's request id). Line breaks in them become spaces, as net/http
// (and so the RIE) writes them; otherwise the runtime's HTTP client sees a
// broken or forged answer, and aws-lambda-go exits.
func TestNextHeadersCannotBreakFraming(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	base := serveAPI(t, e) + "/2018-06-01/runtime/"
	inv := newInv("11111111-2222-4333-8444-555555555555", `{"hello":"world"}`)
	inv.clientContext = "{\r\n  \"custom\": {\"k\": \"v\"}\n}"
	inv.traceID = "Root=1-00000000-000000000000000000000000\r\nLambda-Runtime-Deadline-Ms: 1"
	inv.cognito = "{}\rX: y"
	go offer(e, inv)
	resp, err := http.Get(base + "invocation/next")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"hello":"world"}` {
		t.Fatalf("next = %d %q", resp.StatusCode, body)
	}
	for h, want := range map[string]string{
		"Lambda-Runtime-Client-Context":   `{    "custom": {"k": "v"} }`,
		"Lambda-Runtime-Trace-Id":         "Root=1-00000000-000000000000000000000000  Lambda-Runtime-Deadline-Ms: 1",
		"Lambda-Runtime-Cognito-Identity": "{} X: y",
		"Lambda-Runtime-Deadline-Ms":      strconv.FormatInt(inv.deadline.UnixMilli(), 10),
	} {
		if got := resp.Header.Values(h); len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want [%q]", h, got, want)
		}
	}
}

// TestExtensionNextAfterRegister: the identifier a registration returned
// admits the extension to event/next (which then blocks until shutdown);
// the same call with another identifier is refused at once.
func TestExtensionNextAfterRegister(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	base := serveAPI(t, e)
	req, _ := http.NewRequest("POST", base+"/2020-01-01/extension/register", strings.NewReader(`{"events":["SHUTDOWN"]}`))
	req.Header.Set("Lambda-Extension-Name", "GoLangEnableSIGTERM")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("Lambda-Extension-Identifier")
	if resp.StatusCode != 200 || id == "" {
		t.Fatalf("register = %d, identifier %q", resp.StatusCode, id)
	}
	e.signalStop.Do(func() { close(e.stopping) }) // event/next answers SHUTDOWN at once
	for _, tt := range []struct {
		id   string
		want int
	}{{id, 200}, {"not-" + id, 403}} {
		req, _ := http.NewRequest("GET", base+"/2020-01-01/extension/event/next", nil)
		req.Header.Set("Lambda-Extension-Identifier", tt.id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("event/next with %q = %d %s, want %d", tt.id, resp.StatusCode, body, tt.want)
		}
		if tt.want == 200 && !strings.Contains(string(body), `"eventType":"SHUTDOWN"`) {
			t.Errorf("event/next body = %s, want a SHUTDOWN event", body)
		}
	}
}
