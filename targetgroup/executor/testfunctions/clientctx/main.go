// Command clientctx is a test function (invokeapi's end-to-end tests):
// it answers {"client_context":…,"request_id":…,"event":…} with the
// ClientContext aws-lambda-go decoded from Lambda-Runtime-Client-Context,
// and prints one log line per invocation so X-Amz-Log-Result has content.
package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type answer struct {
	ClientContext *lambdacontext.ClientContext `json:"client_context"`
	RequestID     string                       `json:"request_id"`
	Event         json.RawMessage              `json:"event"`
}

func handle(ctx context.Context, ev json.RawMessage) (answer, error) {
	a := answer{Event: ev}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		a.RequestID = lc.AwsRequestID
		if lc.ClientContext.Custom != nil || lc.ClientContext.Client.AppTitle != "" {
			cc := lc.ClientContext
			a.ClientContext = &cc
		}
	}
	fmt.Println("clientctx: handled", a.RequestID)
	return a, nil
}

func main() { lambda.Start(handle) }
