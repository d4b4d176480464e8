// Command extension is a test external extension: put it (or a link to
// it) in a layer's extensions directory. It registers with its file name,
// subscribes to SHUTDOWN (and INVOKE when TEST_EXTENSION_EVENTS says so),
// prints what it receives, and exits after SHUTDOWN.
//
// TEST_EXTENSION_MODE in the function's environment makes it misbehave:
// "exit" exits before registering, "init-error" posts extension/init/error
// after registering, "crash-later" exits 1 s after registering.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	name := filepath.Base(os.Args[0])
	base := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2020-01-01/extension"
	mode := os.Getenv("TEST_EXTENSION_MODE")
	fmt.Printf("[%s] starting\n", name)
	if mode == "exit" {
		os.Exit(3)
	}
	events := []string{"SHUTDOWN"}
	if ev := os.Getenv("TEST_EXTENSION_EVENTS"); ev != "" {
		events = strings.Split(ev, ",")
	}
	body, _ := json.Marshal(map[string][]string{"events": events})
	req, _ := http.NewRequest("POST", base+"/register", strings.NewReader(string(body)))
	req.Header.Set("Lambda-Extension-Name", name)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Printf("[%s] register: %v\n", name, err)
		os.Exit(1)
	}
	reg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("Lambda-Extension-Identifier")
	fmt.Printf("[%s] registered %d %s\n", name, resp.StatusCode, reg)
	if mode == "init-error" {
		req, _ := http.NewRequest("POST", base+"/init/error", strings.NewReader(`{"errorMessage":"extension says no","errorType":"Extension.TestFailure"}`))
		req.Header.Set("Lambda-Extension-Identifier", id)
		req.Header.Set("Lambda-Extension-Function-Error-Type", "Extension.TestFailure")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			fmt.Printf("[%s] init/error %d\n", name, resp.StatusCode)
			resp.Body.Close()
		}
		os.Exit(1)
	}
	if mode == "crash-later" {
		go func() {
			time.Sleep(time.Second)
			fmt.Printf("[%s] crashing\n", name)
			os.Exit(4)
		}()
	}
	for {
		req, _ := http.NewRequest("GET", base+"/event/next", nil)
		req.Header.Set("Lambda-Extension-Identifier", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Printf("[%s] next: %v\n", name, err)
			os.Exit(1)
		}
		ev, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var event struct {
			EventType      string `json:"eventType"`
			ShutdownReason string `json:"shutdownReason"`
			DeadlineMs     int64  `json:"deadlineMs"`
		}
		json.Unmarshal(ev, &event)
		fmt.Printf("[%s] event %s %s deadline_in_ms=%d\n", name, event.EventType, event.ShutdownReason, event.DeadlineMs-time.Now().UnixMilli())
		if event.EventType == "SHUTDOWN" {
			os.Exit(0)
		}
	}
}
