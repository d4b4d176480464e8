package invokeapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

func TestInvokeRequestResponse(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name      string
		function  string
		qualifier string
		payload   []byte
		want      string
		funcErr   string
	}{
		{name: "name", function: "echo", payload: []byte(`{"a":1}`), want: `{"a":1}`},
		{name: "name with $LATEST", function: "echo:$LATEST", payload: []byte(`[1]`), want: `[1]`},
		{name: "qualifier query", function: "echo", qualifier: "$LATEST", payload: []byte(`"s"`), want: `"s"`},
		{name: "full arn", function: "arn:aws:lambda:us-east-1:123456789012:function:echo", payload: []byte(`1`), want: `1`},
		{name: "partial arn", function: "123456789012:function:echo", payload: []byte(`null`), want: `null`},
		{name: "empty payload", function: "echo", want: `{}`},
		{name: "function error", function: "fail", payload: []byte(`{}`),
			want: `{"errorMessage":"boom","errorType":"errorString"}`, funcErr: "Unhandled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &lambda.InvokeInput{FunctionName: aws.String(tt.function), Payload: tt.payload}
			if tt.qualifier != "" {
				in.Qualifier = aws.String(tt.qualifier)
			}
			out, err := env.client.Invoke(testCtx(t), in)
			if err != nil {
				t.Fatal(err)
			}
			if out.StatusCode != 200 || string(out.Payload) != tt.want ||
				aws.ToString(out.FunctionError) != tt.funcErr || aws.ToString(out.ExecutedVersion) != "$LATEST" {
				t.Errorf("got %d %q err=%q version=%q; want 200 %q err=%q", out.StatusCode, out.Payload,
					aws.ToString(out.FunctionError), aws.ToString(out.ExecutedVersion), tt.want, tt.funcErr)
			}
			if out.LogResult != nil {
				t.Errorf("LogResult without Tail: %q", *out.LogResult)
			}
		})
	}
}

func TestInvokeTailAndClientContext(t *testing.T) {
	env := newTestEnv(t)
	out, err := env.client.Invoke(testCtx(t), &lambda.InvokeInput{
		FunctionName: aws.String("echo"), LogType: types.LogTypeTail, Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	log, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != tailLogSize || !strings.HasSuffix(string(log), "END RequestId: 1\n") {
		t.Errorf("tail: %d bytes ending %q", len(log), log[max(0, len(log)-20):])
	}
	if !env.inv.last().TailLog {
		t.Error("TailLog not requested")
	}

	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))
	out, err = env.client.Invoke(testCtx(t), &lambda.InvokeInput{
		FunctionName: aws.String("ctx"), ClientContext: aws.String(cc)})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := strconv.Unquote(string(out.Payload)); got != cc {
		t.Errorf("client context reached the function as %q, want %q", got, cc)
	}
}

func TestInvokeEventAndDryRun(t *testing.T) {
	env := newTestEnv(t)
	out, err := env.client.Invoke(testCtx(t), &lambda.InvokeInput{
		FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"e":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != 202 || len(out.Payload) != 0 {
		t.Errorf("Event: %d %q", out.StatusCode, out.Payload)
	}
	if len(env.queue.events) != 1 || env.queue.events[0].function != "echo" || string(env.queue.events[0].payload) != `{"e":1}` {
		t.Errorf("queued %+v", env.queue.events)
	}
	out, err = env.client.Invoke(testCtx(t), &lambda.InvokeInput{
		FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeDryRun, Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != 204 {
		t.Errorf("DryRun: %d", out.StatusCode)
	}
	if len(env.inv.reqs) != 0 {
		t.Errorf("DryRun or Event reached the invoker: %d", len(env.inv.reqs))
	}
	// The deprecated InvokeAsync is an Event.
	//lint:ignore SA1019 albedo serves InvokeAsync for old clients; the test must call it
	aout, err := env.client.InvokeAsync(testCtx(t), &lambda.InvokeAsyncInput{
		FunctionName: aws.String("echo"), InvokeArgs: strings.NewReader(`{"old":true}`)})
	if err != nil {
		t.Fatal(err)
	}
	if aout.Status != 202 || len(env.queue.events) != 2 {
		t.Errorf("InvokeAsync: %d, %d events", aout.Status, len(env.queue.events))
	}
}

func TestInvokeErrors(t *testing.T) {
	env := newTestEnv(t)
	noQueue := newTestEnv(t, withoutQueue)
	big := bytes.Repeat([]byte("1"), MaxSyncPayload+1)
	bigEvent := bytes.Repeat([]byte("1"), MaxAsyncPayload+1)
	tests := []struct {
		name     string
		client   *lambda.Client
		in       lambda.InvokeInput
		wantCode string
		check    func(t *testing.T, err error)
	}{
		{name: "unknown function", in: lambda.InvokeInput{FunctionName: aws.String("nope")},
			wantCode: "ResourceNotFoundException", check: func(t *testing.T, err error) {
				var e *types.ResourceNotFoundException
				if !errors.As(err, &e) || aws.ToString(e.Message) != "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope" ||
					aws.ToString(e.Type) != "User" {
					t.Errorf("%#v", err)
				}
			}},
		{name: "other qualifier", in: lambda.InvokeInput{FunctionName: aws.String("echo:prod")},
			wantCode: "ResourceNotFoundException", check: func(t *testing.T, err error) {
				var e *types.ResourceNotFoundException
				if !errors.As(err, &e) || aws.ToString(e.Message) != "Function not found: arn:aws:lambda:us-east-1:123456789012:function:echo:prod" {
					t.Errorf("%#v", err)
				}
			}},
		{name: "other account", in: lambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:210987654321:function:echo")},
			wantCode: "ResourceNotFoundException"},
		{name: "qualifier mismatch", in: lambda.InvokeInput{FunctionName: aws.String("echo:$LATEST"), Qualifier: aws.String("1")},
			wantCode: "InvalidParameterValueException"},
		{name: "invalid json", in: lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{nope`)},
			wantCode: "InvalidRequestContentException", check: func(t *testing.T, err error) {
				var e *types.InvalidRequestContentException
				if !errors.As(err, &e) || !strings.HasPrefix(aws.ToString(e.Message), "Could not parse request body into json") {
					t.Errorf("%#v", err)
				}
			}},
		{name: "client context not base64", in: lambda.InvokeInput{FunctionName: aws.String("echo"), ClientContext: aws.String("%%%")},
			wantCode: "InvalidRequestContentException"},
		{name: "client context not json", in: lambda.InvokeInput{FunctionName: aws.String("echo"),
			ClientContext: aws.String(base64.StdEncoding.EncodeToString([]byte("plain")))},
			wantCode: "InvalidRequestContentException"},
		{name: "client context too long", in: lambda.InvokeInput{FunctionName: aws.String("echo"),
			ClientContext: aws.String(base64.StdEncoding.EncodeToString([]byte(`{"k":"` + strings.Repeat("v", 2700) + `"}`)))},
			wantCode: "InvalidRequestContentException"},
		{name: "sync too large", in: lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: big},
			wantCode: "RequestTooLargeException", check: func(t *testing.T, err error) {
				var e *types.RequestTooLargeException
				if !errors.As(err, &e) || aws.ToString(e.Message) != "Request must be smaller than 6291456 bytes for the InvokeFunction operation" {
					t.Errorf("%#v", err)
				}
			}},
		{name: "event too large", in: lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: bigEvent,
			InvocationType: types.InvocationTypeEvent}, wantCode: "RequestTooLargeException"},
		{name: "unknown invocation type", in: lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: "Later"},
			wantCode: "UnsupportedMediaTypeException"},
		{name: "account throttle", in: lambda.InvokeInput{FunctionName: aws.String("throttled")},
			wantCode: "TooManyRequestsException", check: func(t *testing.T, err error) {
				var e *types.TooManyRequestsException
				if !errors.As(err, &e) || e.Reason != types.ThrottleReasonConcurrentInvocationLimitExceeded ||
					aws.ToString(e.Message) != "Rate Exceeded." {
					t.Errorf("%#v", err)
				}
			}},
		{name: "reserved throttle", in: lambda.InvokeInput{FunctionName: aws.String("reserved")},
			wantCode: "TooManyRequestsException", check: func(t *testing.T, err error) {
				var e *types.TooManyRequestsException
				if !errors.As(err, &e) || e.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
					t.Errorf("%#v", err)
				}
			}},
		{name: "system error", in: lambda.InvokeInput{FunctionName: aws.String("broken")},
			wantCode: "ServiceException", check: func(t *testing.T, err error) {
				var e *types.ServiceException
				if !errors.As(err, &e) || aws.ToString(e.Type) != "Service" {
					t.Errorf("%#v", err)
				}
			}},
		{name: "event without queue", client: noQueue.client,
			in:       lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeEvent},
			wantCode: "ServiceException"},
		{name: "invalid name", in: lambda.InvokeInput{FunctionName: aws.String("bad name")},
			wantCode: "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.client
			if c == nil {
				c = env.client
			}
			_, err := c.Invoke(testCtx(t), &tt.in)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode {
				t.Fatalf("got %v, want %s", err, tt.wantCode)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
		})
	}
}

// TestInvokeWire checks the raw bytes of an error and a success response.
func TestInvokeWire(t *testing.T) {
	env := newTestEnv(t)
	resp, err := http.Post("http://"+env.addr+"/2015-03-31/functions/nope/invocations", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := new(bytes.Buffer)
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-ErrorType") != "ResourceNotFoundException" ||
		body.String() != `{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"}` ||
		len(resp.Header.Get("X-Amzn-RequestId")) != 36 {
		t.Errorf("%d %v %s", resp.StatusCode, resp.Header, body)
	}

	resp2, err := http.Get("http://" + env.addr + "/2020-01-01/whatever")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 404 || resp2.Header.Get("X-Amzn-ErrorType") != "UnknownOperationException" {
		t.Errorf("unknown path: %d %v", resp2.StatusCode, resp2.Header)
	}
}

// TestInvokeRemoteTimeout: a remote function that gives no answer within
// its timeout is answered as Lambda answers a function that ran out of
// time (200, Unhandled, Sandbox.Timedout), which the SDK does not retry:
// with a 5xx it invoked the function five times for one call.
func TestInvokeRemoteTimeout(t *testing.T) {
	env := newTestEnv(t)
	out, err := env.client.Invoke(testCtx(t), &lambda.InvokeInput{FunctionName: aws.String("late")})
	if err != nil {
		t.Fatal(err)
	}
	var p struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal(out.Payload, &p); err != nil {
		t.Fatalf("payload %q: %v", out.Payload, err)
	}
	msg := regexp.MustCompile(`^RequestId: [0-9a-f-]{36} Error: Task timed out after 3\.00 seconds$`)
	if out.StatusCode != 200 || aws.ToString(out.FunctionError) != "Unhandled" ||
		p.ErrorType != "Sandbox.Timedout" || !msg.MatchString(p.ErrorMessage) {
		t.Errorf("got %d %q %q", out.StatusCode, aws.ToString(out.FunctionError), out.Payload)
	}
	calls := 0
	env.inv.mu.Lock()
	for _, r := range env.inv.reqs {
		if r.Function == "late" {
			calls++
		}
	}
	env.inv.mu.Unlock()
	if calls != 1 {
		t.Errorf("the function was invoked %d times for one call, want 1", calls)
	}
}
