package async_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/async"
)

// hello is a one-function Invoker standing in for *executor.Pool.
type hello struct{}

func (hello) Function(name string) (executor.Function, bool) {
	return executor.Function{Name: name, ARN: "arn:aws:lambda:us-east-1:123456789012:function:" + name, Reserved: -1}, name == "hello"
}

func (hello) Invoke(_ context.Context, req executor.Request) (executor.Response, error) {
	return executor.Response{Payload: []byte(`"hi"`)}, nil
}

func Example() {
	dir, _ := os.MkdirTemp("", "async-example")
	defer os.RemoveAll(dir)
	records := filepath.Join(dir, "success.jsonl")

	q, err := async.Open(async.Options{
		Dir: dir,
		Configs: map[string]async.Config{"hello": {
			MaximumRetryAttempts: 2, MaximumEventAge: time.Hour, OnSuccess: "file://" + records,
		}},
	}, hello{})
	if err != nil {
		fmt.Println(err)
		return
	}
	q.Start()
	if _, err := q.Enqueue(context.Background(), "hello", []byte(`{"name":"albedo"}`)); err != nil {
		fmt.Println(err)
	}
	for q.Stats().Pending > 0 {
		time.Sleep(time.Millisecond)
	}
	q.Close(context.Background())

	b, _ := os.ReadFile(records)
	var r async.Record
	if err := json.Unmarshal(b, &r); err != nil {
		fmt.Println(err)
	}
	fmt.Println(r.RequestContext.Condition, r.RequestContext.FunctionARN, string(r.RequestPayload), string(r.ResponsePayload))
	// Output: Success arn:aws:lambda:us-east-1:123456789012:function:hello:$LATEST {"name":"albedo"} "hi"
}
