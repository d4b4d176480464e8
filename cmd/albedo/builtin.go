package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

// builtinSubcommand is the hidden subcommand the executor runs for
// `runtime: builtin` functions: albedo's own binary becomes the bootstrap of
// a real execution environment and speaks the Runtime API through
// aws-lambda-go, exactly like a user's function.
const builtinSubcommand = "__builtin"

// builtins are the functions available as `runtime: builtin`, by handler.
var builtins = map[string]any{
	"echo": echo,
	"noop": noop,
}

// runBuiltin starts the builtin function named by args[0]. It only returns
// on a usage error: lambda.Start runs until the process is stopped.
func runBuiltin(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: albedo "+builtinSubcommand+" HANDLER")
		return 2
	}
	h, ok := builtins[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "albedo: no builtin function %q\n", args[0])
		return 2
	}
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		fmt.Fprintln(os.Stderr, "albedo: builtin functions run inside an execution environment (AWS_LAMBDA_RUNTIME_API is not set)")
		return 2
	}
	lambda.Start(h)
	return 0
}

// echoResponse is an ALB Lambda response; exactly one of the header maps is
// set, matching the mode the event arrived in.
type echoResponse struct {
	StatusCode        int                 `json:"statusCode"`
	StatusDescription string              `json:"statusDescription"`
	Headers           map[string]string   `json:"headers,omitempty"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders,omitempty"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// echo answers with the event it received, as pretty JSON: the quickest way
// to see what a function behind albedo gets.
func echo(_ context.Context, event json.RawMessage) (echoResponse, error) {
	var probe struct {
		MultiValueHeaders json.RawMessage `json:"multiValueHeaders"`
	}
	_ = json.Unmarshal(event, &probe)
	// json.Indent keeps the event's own key order and escaping.
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, event, "", "  "); err != nil {
		pretty.Reset()
		pretty.Write(event)
	}
	pretty.WriteByte('\n')
	resp := echoResponse{
		StatusCode:        200,
		StatusDescription: "200 OK",
		Body:              pretty.String(),
	}
	if len(probe.MultiValueHeaders) > 0 {
		resp.MultiValueHeaders = map[string][]string{"Content-Type": {"application/json"}}
	} else {
		resp.Headers = map[string]string{"Content-Type": "application/json"}
	}
	return resp, nil
}

// noop answers 200 "ok" to anything: the function of the end-to-end
// benchmark (`albedo bench`), so albedo's own overhead is what is measured.
func noop(context.Context, json.RawMessage) (echoResponse, error) {
	return echoResponse{
		StatusCode:        200,
		StatusDescription: "200 OK",
		Headers:           map[string]string{"Content-Type": "text/plain"},
		Body:              noopBody,
	}, nil
}
