// Command alb is the ALB function of albedo's conformance tests in Go: the
// same function as testdata/functions/alb/node-cjs (whose comment lists
// what it answers), node-esm and python, answering the same way.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

var count int // package level: one per execution environment

type response struct {
	StatusCode        int                 `json:"statusCode"`
	StatusDescription string              `json:"statusDescription"`
	Headers           map[string]string   `json:"headers,omitempty"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders,omitempty"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

func handler(ctx context.Context, raw json.RawMessage) (response, error) {
	count++
	var event events.ALBTargetGroupRequest
	if err := json.Unmarshal(raw, &event); err != nil {
		return response{}, err
	}
	multi := event.MultiValueHeaders != nil
	header := func(name string) string {
		if multi {
			if v := event.MultiValueHeaders[name]; len(v) > 0 {
				return v[len(v)-1]
			}
			return ""
		}
		return event.Headers[name]
	}
	query := func(name string) string {
		if multi {
			if v := event.MultiValueQueryStringParameters[name]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		return event.QueryStringParameters[name]
	}
	respond := func(status int, contentType, body string, b64 bool) response {
		r := response{StatusCode: status, StatusDescription: strconv.Itoa(status) + " ALB", Body: body, IsBase64Encoded: b64}
		if multi {
			r.MultiValueHeaders = map[string][]string{"Content-Type": {contentType}, "X-Alb-Function": {"a", "b"}}
		} else {
			r.Headers = map[string]string{"Content-Type": contentType, "X-Alb-Function": "a"}
		}
		return r
	}
	status := 200
	if s := header("x-alb-status"); s != "" {
		status, _ = strconv.Atoi(s)
	}
	switch event.Path {
	case "/binary":
		body := event.Body
		if !event.IsBase64Encoded {
			body = base64.StdEncoding.EncodeToString([]byte(body))
		}
		return respond(status, "application/octet-stream", body, true), nil
	case "/log":
		fmt.Println("alb print")
		log.Printf("alb log %s %d", "text", 42)
	case "/error":
		return response{}, errors.New("alb: asked to fail")
	case "/sleep":
		ms, _ := strconv.Atoi(query("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
	case "/layer":
		// A layer's bin directory is on PATH.
		out, err := exec.Command("alb-layer").Output()
		if err != nil {
			return response{}, err
		}
		return respond(status, "text/plain", strings.TrimSpace(string(out)), false), nil
	}
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	body, err := json.Marshal(map[string]any{
		"count": count,
		"event": raw,
		"context": map[string]any{
			"awsRequestId":          lc.AwsRequestID,
			"functionName":          lambdacontext.FunctionName,
			"functionVersion":       lambdacontext.FunctionVersion,
			"invokedFunctionArn":    lc.InvokedFunctionArn,
			"memoryLimitInMB":       strconv.Itoa(lambdacontext.MemoryLimitInMB),
			"logGroupName":          lambdacontext.LogGroupName,
			"logStreamName":         lambdacontext.LogStreamName,
			"remainingTimeInMillis": time.Until(deadline).Milliseconds(),
		},
	})
	if err != nil {
		return response{}, err
	}
	return respond(status, "application/json", string(body), false), nil
}

func main() { lambda.Start(handler) }
