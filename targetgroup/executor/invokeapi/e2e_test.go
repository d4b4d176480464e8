package invokeapi

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/async"
	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// Interface guards: the real implementations satisfy what the API consumes.
var (
	_ Invoker = (*executor.Pool)(nil)
	_ Queue   = (*async.Queue)(nil)
)

func realFunction(name, code string, reserved int) executor.Function {
	return executor.Function{
		Name:       name,
		ARN:        functionARN(testRegion, testAccount, name),
		Runtime:    "provided.al2023",
		Handler:    "bootstrap",
		Code:       code,
		MemorySize: 128,
		Timeout:    5 * time.Second,
		Reserved:   reserved,
		Region:     testRegion,
	}
}

// discardWriter is the function log sink.
type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// realEnv serves the API over a real executor.Pool and async.Queue.
type realEnv struct {
	client *lambda.Client
	addr   string
	pool   *executor.Pool
	queue  *async.Queue
}

func newRealEnv(t *testing.T, fns []executor.Function, configs map[string]async.Config) *realEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test with real functions")
	}
	pool, err := executor.New(executor.Options{MaxConcurrency: 4, Logger: slog.New(slog.DiscardHandler),
		FunctionLog: discardWriter{}}, fns)
	if err != nil {
		t.Fatal(err)
	}
	q, err := async.Open(async.Options{Dir: t.TempDir(), Configs: configs, RetryDelays: []time.Duration{10 * time.Millisecond},
		BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond}, pool)
	if err != nil {
		t.Fatal(err)
	}
	q.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Close(ctx)
		_ = pool.Close(ctx)
	})
	api, err := New(Options{Invoker: pool, Queue: q, Region: testRegion, AccountID: testAccount})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, api)
	return &realEnv{client: newClient("http://"+addr, testKeyID, testSecret), addr: addr, pool: pool, queue: q}
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real functions")
	}
	fns := []executor.Function{
		realFunction("ctx", exectest.Build(t, "clientctx"), -1),
		realFunction("behave", exectest.Build(t, "behave"), -1),
		realFunction("closed", exectest.Build(t, "noop"), 0),
	}
	out := filepath.Join(t.TempDir(), "success.jsonl")
	env := newRealEnv(t, fns, map[string]async.Config{
		"behave": {MaximumRetryAttempts: 0, MaximumEventAge: time.Hour, OnSuccess: "file://" + out},
	})
	ctx := testCtx(t)

	t.Run("RequestResponse with tail and client context", func(t *testing.T) {
		cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"tenant":"t1"},"env":{},"client":{"app_title":"albedo"}}`))
		res, err := env.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("ctx"), Payload: []byte(`{"n":1}`),
			LogType: types.LogTypeTail, ClientContext: aws.String(cc)})
		if err != nil {
			t.Fatal(err)
		}
		var a struct {
			ClientContext struct {
				Custom map[string]string `json:"custom"`
				Client struct {
					AppTitle string `json:"app_title"`
				} `json:"client"`
			} `json:"client_context"`
			RequestID string          `json:"request_id"`
			Event     json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(res.Payload, &a); err != nil {
			t.Fatalf("%v: %s", err, res.Payload)
		}
		if a.ClientContext.Custom["tenant"] != "t1" || a.ClientContext.Client.AppTitle != "albedo" || string(a.Event) != `{"n":1}` {
			t.Errorf("function saw %s", res.Payload)
		}
		log, err := base64.StdEncoding.DecodeString(aws.ToString(res.LogResult))
		if err != nil || !strings.Contains(string(log), "clientctx: handled "+a.RequestID) || !strings.Contains(string(log), "REPORT RequestId: "+a.RequestID) {
			t.Errorf("tail log %q (%v)", log, err)
		}
		if aws.ToString(res.ExecutedVersion) != "$LATEST" || res.FunctionError != nil {
			t.Errorf("%+v", res)
		}
	})

	t.Run("function error is 200 Unhandled", func(t *testing.T) {
		res, err := env.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("behave"), Payload: []byte(`{"error":"bad"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 || aws.ToString(res.FunctionError) != "Unhandled" || !strings.Contains(string(res.Payload), `"errorMessage":"bad"`) {
			t.Errorf("%d %q %s", res.StatusCode, aws.ToString(res.FunctionError), res.Payload)
		}
	})

	t.Run("crash is 200 Unhandled", func(t *testing.T) {
		res, err := env.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("behave"), Payload: []byte(`{"exit":3}`)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(res.FunctionError) != "Unhandled" {
			t.Errorf("%q %s", aws.ToString(res.FunctionError), res.Payload)
		}
	})

	t.Run("reserved concurrency 0 throttles", func(t *testing.T) {
		_, err := env.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("closed")})
		var tm *types.TooManyRequestsException
		if !errors.As(err, &tm) || tm.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
			t.Errorf("%v", err)
		}
	})

	t.Run("DryRun", func(t *testing.T) {
		res, err := env.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("behave"), InvocationType: types.InvocationTypeDryRun})
		if err != nil || res.StatusCode != 204 {
			t.Errorf("%v %+v", err, res)
		}
	})

	t.Run("Event reaches the function and its destination", func(t *testing.T) {
		res, err := env.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("behave"),
			InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"stdout":["async"]}`)})
		if err != nil || res.StatusCode != 202 {
			t.Fatalf("%v %+v", err, res)
		}
		rec := waitLine(t, out)
		var r struct {
			RequestContext struct {
				Condition string `json:"condition"`
			} `json:"requestContext"`
			RequestPayload json.RawMessage `json:"requestPayload"`
		}
		if err := json.Unmarshal([]byte(rec), &r); err != nil || r.RequestContext.Condition != "Success" ||
			string(r.RequestPayload) != `{"stdout":["async"]}` {
			t.Errorf("record %s (%v)", rec, err)
		}
	})

	t.Run("event invoke config through the queue", func(t *testing.T) {
		got, err := env.client.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("behave")})
		if err != nil || aws.ToInt32(got.MaximumRetryAttempts) != 0 || aws.ToInt32(got.MaximumEventAgeInSeconds) != 3600 {
			t.Fatalf("config file's settings: %v %+v", err, got)
		}
		_, err = env.client.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
			FunctionName:      aws.String("behave"),
			DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String("relative/path")}}})
		var ip *types.InvalidParameterValueException
		if !errors.As(err, &ip) {
			t.Errorf("bad destination: %v", err)
		}
		if _, err := env.client.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String("behave")}); err != nil {
			t.Fatal(err)
		}
		if _, err := env.client.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("behave")}); !errors.As(err, new(*types.ResourceNotFoundException)) {
			t.Errorf("after delete: %v", err)
		}
	})

	t.Run("ListFunctions", func(t *testing.T) {
		l, err := env.client.ListFunctions(ctx, &lambda.ListFunctionsInput{})
		if err != nil || len(l.Functions) != 3 || aws.ToString(l.Functions[0].FunctionName) != "behave" {
			t.Errorf("%v %+v", err, l)
		}
	})
}

// waitLine waits for the first line of a file:// destination.
func waitLine(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if f, err := os.Open(path); err == nil {
			line, err := bufio.NewReader(f).ReadString('\n')
			f.Close()
			if err == nil || (err == io.EOF && line != "") {
				return line
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no record in %s", path)
	return ""
}
