// Command behave is a Lambda function whose behaviour is chosen by its
// event, for the executor's tests. The event is a JSON object; every field
// is optional and they apply in this order:
//
//	{"stdout":["l1"],"stderr":["l2"]}  print lines (stdout, then stderr)
//	{"alloc_mb":200}                   allocate and touch that much memory
//	{"burn_ms":150}                    use that much CPU time (the process's, so
//	                                   a CPU quota stretches it in wall time)
//	{"spawn":"setsid"}                 start `sleep 3600` in a new session (it
//	                                   leaves the process group) and answer
//	                                   with its pid in child_pid; "group" keeps
//	                                   it in the runtime's group
//	{"sleep_ms":50}                    sleep (honouring nothing: a stuck function)
//	{"exit":3}                         exit with that status without answering
//	{"panic":"boom"}                   panic (aws-lambda-go reports it, then exits)
//	{"error":"bad"}                    return an error
//	{"big":7340032}                    answer with a string of that many bytes
//	{"env":true}                       answer with the whole environment
//
// The answer is {"pid":…,"env":{…},"big":"…","echo":<event>,"deadline_ms":…,
// "request_id":…,"trace_id":…,"start_ns":…,"end_ns":…,"child_pid":…,
// "gomaxprocs":…}.
//
// Init behaviour comes from environment variables: BEHAVE_INIT_FAIL=exit
// (exit 3 during init), =error (post /runtime/init/error, then exit),
// =hang (never call /next); BEHAVE_INIT_SLEEP_MS delays init;
// BEHAVE_SIGTERM=1 starts with lambda.WithEnableSIGTERM and prints
// "behave: SIGTERM" when the signal arrives.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Stdout  []string `json:"stdout"`
	Stderr  []string `json:"stderr"`
	AllocMB int      `json:"alloc_mb"`
	BurnMS  int      `json:"burn_ms"`
	Spawn   string   `json:"spawn"`
	// SpawnMany starts up to this many sleeping children, stopping at the
	// first that cannot start (Spawned and SpawnError say how far it got),
	// then ends them all.
	SpawnMany int `json:"spawn_many"`
	// Squat starts a setsid'd copy of behave that binds this address as
	// soon as it is free (albedo's own, once albedo is gone) and holds it.
	Squat   string `json:"squat"`
	SleepMS int    `json:"sleep_ms"`
	Exit    *int   `json:"exit"`
	Panic   string `json:"panic"`
	Error   string `json:"error"`
	Big     int    `json:"big"`
	Env     bool   `json:"env"`
}

type answer struct {
	PID        int               `json:"pid"`
	Env        map[string]string `json:"env,omitempty"`
	Big        string            `json:"big,omitempty"`
	Echo       json.RawMessage   `json:"echo,omitempty"`
	DeadlineMS int64             `json:"deadline_ms"`
	RequestID  string            `json:"request_id"`
	TraceID    string            `json:"trace_id"`
	StartNS    int64             `json:"start_ns"` // handler start, Unix ns
	EndNS      int64             `json:"end_ns"`   // handler end, Unix ns
	ChildPID   int               `json:"child_pid,omitempty"`
	Spawned    int               `json:"spawned,omitempty"`
	SpawnError string            `json:"spawn_error,omitempty"`
	GOMAXPROCS int               `json:"gomaxprocs"`
}

var hold [][]byte // keeps allocations alive across invocations

func handle(ctx context.Context, raw json.RawMessage) (answer, error) {
	start := time.Now().UnixNano()
	var ev event
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &ev); err != nil {
			return answer{}, err
		}
	}
	for _, l := range ev.Stdout {
		fmt.Fprintln(os.Stdout, l)
	}
	for _, l := range ev.Stderr {
		fmt.Fprintln(os.Stderr, l)
	}
	if ev.AllocMB > 0 {
		b := make([]byte, ev.AllocMB<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		hold = append(hold, b)
	}
	if ev.BurnMS > 0 {
		burn(time.Duration(ev.BurnMS) * time.Millisecond)
	}
	child := 0
	if ev.Spawn != "" {
		cmd := exec.Command("sleep", "3600")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: ev.Spawn == "setsid"}
		if err := cmd.Start(); err != nil {
			return answer{}, err
		}
		child = cmd.Process.Pid
		go cmd.Wait()
	}
	if ev.Squat != "" {
		self, err := os.Executable()
		if err != nil {
			return answer{}, err
		}
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), "BEHAVE_SQUAT="+ev.Squat)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			return answer{}, err
		}
		child = cmd.Process.Pid
		go cmd.Wait()
	}
	spawned, spawnErr := 0, ""
	var many []*exec.Cmd
	for range ev.SpawnMany {
		cmd := exec.Command("sleep", "3600")
		if err := cmd.Start(); err != nil {
			spawnErr = err.Error()
			break
		}
		spawned++ // not waited for yet: a blocked Wait holds a thread each
		many = append(many, cmd)
	}
	for _, cmd := range many { // then ended, so the next invocation has room
		cmd.Process.Kill()
		cmd.Wait()
	}
	if ev.SleepMS > 0 {
		time.Sleep(time.Duration(ev.SleepMS) * time.Millisecond)
	}
	if ev.Exit != nil {
		os.Exit(*ev.Exit)
	}
	if ev.Panic != "" {
		panic(ev.Panic)
	}
	if ev.Error != "" {
		return answer{}, errors.New(ev.Error)
	}
	a := answer{PID: os.Getpid(), Echo: raw, StartNS: start, ChildPID: child, Spawned: spawned, SpawnError: spawnErr, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	if dl, ok := ctx.Deadline(); ok {
		a.DeadlineMS = dl.UnixMilli()
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		a.RequestID = lc.AwsRequestID
	}
	if v, ok := ctx.Value("x-amzn-trace-id").(string); ok {
		a.TraceID = v
	}
	if ev.Big > 0 {
		a.Big = strings.Repeat("x", ev.Big)
		a.Echo = nil
	}
	if ev.Env {
		a.Env = map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			a.Env[k] = v
		}
	}
	a.EndNS = time.Now().UnixNano()
	return a, nil
}

// sink keeps burn's busy loop from being optimised away.
//
//lint:ignore U1000 written, never read: that is its job
var sink uint64

// burn spins until the process used d more CPU time (user and system).
func burn(d time.Duration) {
	start := cpuTime()
	for cpuTime()-start < d {
		for i := range 100000 {
			sink += uint64(i) * 2654435761
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func initError() {
	body := []byte(`{"errorMessage":"behave: init failed on purpose","errorType":"Runtime.BehaveInitError"}`)
	url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.BehaveInitError")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	os.Exit(4)
}

func main() {
	if addr := os.Getenv("BEHAVE_SQUAT"); addr != "" {
		for {
			if _, err := net.Listen("tcp", addr); err == nil {
				time.Sleep(time.Hour) // holds it
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if ms, _ := strconv.Atoi(os.Getenv("BEHAVE_INIT_SLEEP_MS")); ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	switch os.Getenv("BEHAVE_INIT_FAIL") {
	case "exit":
		fmt.Fprintln(os.Stderr, "behave: exiting during init")
		os.Exit(3)
	case "error":
		initError()
	case "hang":
		time.Sleep(time.Hour)
	}
	if os.Getenv("BEHAVE_SIGTERM") == "1" {
		lambda.StartWithOptions(handle, lambda.WithEnableSIGTERM(func() {
			fmt.Println("behave: SIGTERM")
		}))
		return
	}
	lambda.Start(handle)
}
