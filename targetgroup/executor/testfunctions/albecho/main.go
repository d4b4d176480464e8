// Command albecho is a test function for end-to-end tests through the
// balancer: a real aws-lambda-go function that decodes the ALB event into
// events.ALBTargetGroupRequest and answers with it, re-encoded as JSON, in
// the mode (single- or multi-value headers) the event arrived in.
//
// The request can steer the answer, for failure tests:
//   - header x-albecho-status: the statusCode to answer with;
//   - path /error: return a function error;
//   - path /invalid: answer with a response the ALB must refuse (statusCode
//     as a string);
//   - path /sleep?ms=N: sleep N milliseconds first;
//   - path /exit: exit the process mid-invocation;
//   - path /discard: answer with the length of the event's body only;
//   - path /health-file: 200 while the file named by the environment
//     variable ALBECHO_HEALTH_FILE exists, else 503 (a health check
//     whose answer a test switches).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handler(_ context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var req events.ALBTargetGroupRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	multi := req.MultiValueHeaders != nil
	header := func(name string) string {
		if multi {
			if v := req.MultiValueHeaders[name]; len(v) > 0 {
				return v[len(v)-1]
			}
			return ""
		}
		return req.Headers[name]
	}
	query := func(name string) string {
		if multi {
			if v := req.MultiValueQueryStringParameters[name]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		return req.QueryStringParameters[name]
	}
	switch req.Path {
	case "/error":
		return nil, errors.New("albecho: asked to fail")
	case "/invalid":
		return json.RawMessage(`{"statusCode":"200","body":"x"}`), nil
	case "/discard":
		// Answer with the body's length only: for bodies whose echo would
		// exceed the 1 MB response limit.
		return json.Marshal(events.ALBTargetGroupResponse{StatusCode: 200, Headers: map[string]string{}, Body: strconv.Itoa(len(req.Body))})
	case "/exit":
		os.Exit(3)
	case "/health-file":
		status := 200
		if _, err := os.Stat(os.Getenv("ALBECHO_HEALTH_FILE")); err != nil {
			status = 503
		}
		return json.Marshal(events.ALBTargetGroupResponse{StatusCode: status, Headers: map[string]string{}, Body: strconv.Itoa(status)})
	case "/sleep":
		ms, _ := strconv.Atoi(query("ms"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	status := 200
	if s := header("x-albecho-status"); s != "" {
		status, _ = strconv.Atoi(s)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	resp := events.ALBTargetGroupResponse{
		StatusCode:        status,
		StatusDescription: strconv.Itoa(status) + " " + "albecho",
		Body:              string(body),
	}
	if multi {
		resp.MultiValueHeaders = map[string][]string{
			"Content-Type": {"application/json"},
			"X-Albecho":    {"a", "b"},
		}
	} else {
		resp.Headers = map[string]string{"Content-Type": "application/json", "X-Albecho": "a"}
	}
	return json.Marshal(resp)
}

func main() {
	lambda.Start(handler)
}
