// Command noop is a Lambda function that answers every event with a fixed
// ALB target-group response. It is the function of the example config and
// of the end-to-end benchmarks: keep its answer exactly as it is.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(context.Context, json.RawMessage) (events.ALBTargetGroupResponse, error) {
	return events.ALBTargetGroupResponse{
		StatusCode:        200,
		StatusDescription: "200 OK",
		Headers:           map[string]string{"Content-Type": "text/plain"},
		Body:              "ok",
	}, nil
}

func main() { lambda.Start(handle) }
