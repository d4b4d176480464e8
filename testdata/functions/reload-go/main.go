// Command reload-go is a Lambda function for albedo's code-reload tests: a
// custom runtime (provided.al2023) in plain Go with the standard library
// only, so that a test can build it in a temporary copy without fetching
// anything. It answers every ALB event with 200 and the text
// "<answer> <pid>"; the tests edit answer, or break the source.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
)

const answer = "one"

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
	for {
		next, err := http.Get(api + "next")
		if err != nil {
			os.Exit(1)
		}
		id := next.Header.Get("Lambda-Runtime-Aws-Request-Id")
		io.Copy(io.Discard, next.Body)
		next.Body.Close()
		body, _ := json.Marshal(map[string]any{
			"statusCode": 200,
			"headers":    map[string]string{"content-type": "text/plain"},
			"body":       fmt.Sprintf("%s %d", answer, os.Getpid()),
		})
		resp, err := http.Post(api+id+"/response", "application/json", bytes.NewReader(body))
		if err != nil {
			os.Exit(1)
		}
		resp.Body.Close()
	}
}
