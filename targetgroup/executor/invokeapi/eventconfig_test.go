package invokeapi

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

func TestEventInvokeConfig(t *testing.T) {
	env := newTestEnv(t, withFixedClock)
	ctx := testCtx(t)
	fn := aws.String("echo")
	arn := functionARN(testRegion, testAccount, "echo") + ":$LATEST"

	if _, err := env.client.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: fn}); !errors.As(err, new(*types.ResourceNotFoundException)) {
		t.Fatalf("get before put: %v", err)
	}
	put, err := env.client.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName: fn, MaximumRetryAttempts: aws.Int32(1),
		DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String("file:///tmp/failed.jsonl")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(put.MaximumRetryAttempts) != 1 || aws.ToInt32(put.MaximumEventAgeInSeconds) != 21600 ||
		aws.ToString(put.FunctionArn) != arn || !put.LastModified.Equal(fixedNow.Truncate(time.Millisecond)) ||
		aws.ToString(put.DestinationConfig.OnFailure.Destination) != "file:///tmp/failed.jsonl" ||
		put.DestinationConfig.OnSuccess.Destination != nil {
		t.Errorf("put: %+v", put)
	}
	c := env.queue.configs["echo"]
	if c.MaximumRetryAttempts != 1 || c.MaximumEventAge != 6*time.Hour || c.OnFailure != "file:///tmp/failed.jsonl" || c.OnSuccess != "" {
		t.Errorf("queue got %+v", c)
	}

	list, err := env.client.ListFunctionEventInvokeConfigs(ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: fn})
	if err != nil || len(list.FunctionEventInvokeConfigs) != 1 || aws.ToInt32(list.FunctionEventInvokeConfigs[0].MaximumRetryAttempts) != 1 {
		t.Errorf("list: %v %+v", err, list)
	}
	// Update merges: only the age changes.
	upd, err := env.client.UpdateFunctionEventInvokeConfig(ctx, &lambda.UpdateFunctionEventInvokeConfigInput{
		FunctionName: fn, MaximumEventAgeInSeconds: aws.Int32(120)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(upd.MaximumRetryAttempts) != 1 || aws.ToInt32(upd.MaximumEventAgeInSeconds) != 120 ||
		aws.ToString(upd.DestinationConfig.OnFailure.Destination) != "file:///tmp/failed.jsonl" {
		t.Errorf("update: %+v", upd)
	}
	// Put replaces: the destination goes.
	if _, err := env.client.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName: fn, MaximumRetryAttempts: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	got, err := env.client.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: fn})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(got.MaximumRetryAttempts) != 0 || aws.ToInt32(got.MaximumEventAgeInSeconds) != 21600 ||
		got.DestinationConfig.OnFailure.Destination != nil {
		t.Errorf("get: %+v", got)
	}
	if _, err := env.client.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: fn}); err != nil {
		t.Fatal(err)
	}
	if _, ok := env.queue.configs["echo"]; ok {
		t.Error("config not deleted")
	}
	if _, err := env.client.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: fn}); !errors.As(err, new(*types.ResourceNotFoundException)) {
		t.Errorf("second delete: %v", err)
	}
}

func TestEventInvokeConfigErrors(t *testing.T) {
	env := newTestEnv(t)
	noQueue := newTestEnv(t, withoutQueue)
	tests := []struct {
		name     string
		client   *lambda.Client
		in       lambda.PutFunctionEventInvokeConfigInput
		wantCode string
	}{
		{name: "retries out of range", in: lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("echo"),
			MaximumRetryAttempts: aws.Int32(3)}, wantCode: "ValidationException"},
		{name: "age out of range", in: lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("echo"),
			MaximumEventAgeInSeconds: aws.Int32(59)}, wantCode: "ValidationException"},
		{name: "queue rejects destination", in: lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("echo"),
			DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String("!bad")}}},
			wantCode: "InvalidParameterValueException"},
		{name: "unknown function", in: lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("nope")},
			wantCode: "ResourceNotFoundException"},
		{name: "no queue", client: noQueue.client, in: lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("echo")},
			wantCode: "ServiceException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.client
			if c == nil {
				c = env.client
			}
			_, err := c.PutFunctionEventInvokeConfig(testCtx(t), &tt.in)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode {
				t.Fatalf("got %v, want %s", err, tt.wantCode)
			}
		})
	}
}
