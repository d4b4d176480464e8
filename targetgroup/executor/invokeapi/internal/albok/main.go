// Command albok is a Lambda function for invokeapi's benchmarks: it
// answers every event with a minimal ALB response, {"statusCode":200,
// "headers":{"Content-Type":"text/plain"},"body":"ok"}, so the same
// function can be reached through the Invoke API and through a listener.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

type response struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

var ok = response{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain"}, Body: "ok"}

func handle(context.Context, json.RawMessage) (response, error) { return ok, nil }

func main() { lambda.Start(handle) }
