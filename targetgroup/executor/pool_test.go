package executor

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWarmReuse(t *testing.T) {
	t.Parallel()
	p, flog := newTestPool(t, Options{}, behaveFn(t, "warm"))
	var pids []int
	for range 3 {
		pids = append(pids, mustAnswer(t, invoke(t, p, "warm", `{}`)).PID)
	}
	if pids[0] != pids[1] || pids[1] != pids[2] {
		t.Errorf("sequential invocations ran in pids %v, want one warm environment", pids)
	}
	if s := p.Stats(); s.ColdStarts != 1 || s.Invocations != 3 || s.Live != 1 || s.Idle != 1 {
		t.Errorf("stats = %+v", s)
	}
	if n := strings.Count(flog.String(), "Init Duration:"); n != 1 {
		t.Errorf("%d REPORT lines with Init Duration, want 1 (cold start only)\n%s", n, flog)
	}
}

func TestConcurrentInvocationsGetOwnEnvironments(t *testing.T) {
	t.Parallel()
	const n = 6
	p, _ := newTestPool(t, Options{}, behaveFn(t, "conc"))
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			answers[i] = mustAnswer(t, invoke(t, p, "conc", `{"sleep_ms":1500}`))
		})
	}
	wg.Wait()
	seen := map[int]bool{}
	pids := make([]int, n)
	for i, a := range answers {
		seen[a.PID] = true
		pids[i] = a.PID
	}
	// Never two invocations at once in one environment.
	for i, a := range answers {
		for _, b := range answers[i+1:] {
			if a.PID == b.PID && a.StartNS < b.EndNS && b.StartNS < a.EndNS {
				t.Errorf("pid %d ran two invocations at once", a.PID)
			}
		}
	}
	if len(seen) != n {
		t.Errorf("%d overlapping invocations ran in %d environments (pids %v), want %d", n, len(seen), pids, n)
	}
	if s := p.Stats(); s.ColdStarts != n || s.Live != n {
		t.Errorf("stats = %+v, want %d cold starts and live environments", s, n)
	}
	// All warm now: n more overlapping calls reuse them.
	for i := range n {
		wg.Go(func() {
			pid := mustAnswer(t, invoke(t, p, "conc", `{"sleep_ms":200}`)).PID
			if !seen[pid] {
				t.Errorf("call %d ran in new pid %d", i, pid)
			}
		})
	}
	wg.Wait()
}

func TestThrottling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		reserved   int
		maxConc    int
		budget     int
		busy       int // invocations held busy before the probe
		wantReason string
	}{
		{name: "reserved zero", reserved: 0, wantReason: ReasonReserved},
		{name: "reserved two", reserved: 2, busy: 2, wantReason: ReasonReserved},
		{name: "max concurrency", reserved: -1, maxConc: 1, busy: 1, wantReason: ReasonConcurrent},
		{name: "memory budget", reserved: -1, budget: 200, busy: 1, wantReason: ReasonConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn := behaveFn(t, "thr")
			fn.Reserved = tt.reserved
			p, _ := newTestPool(t, Options{MaxConcurrency: tt.maxConc, MemoryBudget: tt.budget}, fn)
			var wg sync.WaitGroup
			for range tt.busy {
				wg.Go(func() { mustAnswer(t, invoke(t, p, "thr", `{"sleep_ms":1500}`)) })
			}
			waitFor(t, func() bool { return p.Stats().Invocations == int64(tt.busy) })
			_, err := p.Invoke(context.Background(), Request{Function: "thr", Payload: []byte(`{}`)})
			var te *ThrottleError
			if !errors.As(err, &te) || !errors.Is(err, ErrThrottled) || te.Reason != tt.wantReason {
				t.Fatalf("Invoke error = %v, want ThrottleError %s", err, tt.wantReason)
			}
			wg.Wait()
			if tt.busy > 0 { // capacity is back
				mustAnswer(t, invoke(t, p, "thr", `{}`))
			}
			if s := p.Stats(); s.Throttles != 1 {
				t.Errorf("throttles = %d, want 1", s.Throttles)
			}
		})
	}
}

// waitFor polls cond for up to 20 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// errorPayloadOf decodes Lambda's error JSON.
func errorPayloadOf(t testing.TB, b []byte) errorPayload {
	t.Helper()
	var e errorPayload
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error payload %q: %v", b, err)
	}
	return e
}

func TestFunctionFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		event       string
		timeout     time.Duration
		wantType    string // Response.ErrorType
		wantPayload string // errorType in the payload
		wantMsg     *regexp.Regexp
		wantNewEnv  bool // the next invocation runs in a fresh environment
		wantReport  string
	}{
		{name: "function error", event: `{"error":"bad thing"}`, wantPayload: "errorString",
			wantMsg: regexp.MustCompile(`^bad thing$`)},
		{name: "panic", event: `{"panic":"boom"}`, wantPayload: "string",
			wantMsg: regexp.MustCompile(`boom`), wantNewEnv: true},
		{name: "timeout", event: `{"sleep_ms":10000}`, timeout: 1500 * time.Millisecond,
			wantType: ErrorTypeTimeout, wantPayload: ErrorTypeTimeout,
			wantMsg:    regexp.MustCompile(`^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.50 seconds$`),
			wantNewEnv: true, wantReport: "\tStatus: timeout\t"},
		{name: "crash", event: `{"exit":2}`, wantType: ErrorTypeExit, wantPayload: ErrorTypeExit,
			wantMsg:    regexp.MustCompile(`^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 2$`),
			wantNewEnv: true, wantReport: "\tStatus: error\tError Type: Runtime.ExitError\t"},
		{name: "clean exit", event: `{"exit":0}`, wantType: ErrorTypeExit, wantPayload: ErrorTypeExit,
			wantMsg:    regexp.MustCompile(`Runtime exited without providing a reason$`),
			wantNewEnv: true},
		{name: "out of memory", event: `{"alloc_mb":200}`, wantType: ErrorTypeExit,
			wantPayload: ErrorTypeExit, wantMsg: regexp.MustCompile(`signal: killed$`), wantNewEnv: true},
		{name: "response too large", event: `{"big":7340032}`, wantType: ErrorTypeResponseTooLarge,
			wantPayload: ErrorTypeResponseTooLarge,
			wantMsg:     regexp.MustCompile(`^Response payload size \(\d+ bytes\) exceeded maximum allowed payload size \(6291556 bytes\)\.$`),
			wantNewEnv:  true}, // aws-lambda-go exits when its response is refused
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn := behaveFn(t, "fail")
			if tt.timeout > 0 {
				fn.Timeout = tt.timeout
			}
			p, flog := newTestPool(t, Options{}, fn)
			first := mustAnswer(t, invoke(t, p, "fail", `{}`))
			resp := invoke(t, p, "fail", tt.event)
			if resp.FunctionError != "Unhandled" || resp.ErrorType != tt.wantType {
				t.Fatalf("FunctionError, ErrorType = %q, %q, want Unhandled, %q (payload %s)",
					resp.FunctionError, resp.ErrorType, tt.wantType, resp.Payload)
			}
			ep := errorPayloadOf(t, resp.Payload)
			if ep.ErrorType != tt.wantPayload || !tt.wantMsg.MatchString(ep.ErrorMessage) {
				t.Errorf("payload = %s, want errorType %s and message %v", resp.Payload, tt.wantPayload, tt.wantMsg)
			}
			if strings.Contains(ep.ErrorMessage, "RequestId:") && !strings.Contains(ep.ErrorMessage, resp.RequestID) {
				t.Errorf("message %q lacks request id %s", ep.ErrorMessage, resp.RequestID)
			}
			next := mustAnswer(t, invoke(t, p, "fail", `{}`))
			if got := next.PID != first.PID; got != tt.wantNewEnv {
				t.Errorf("next invocation in a new environment = %v, want %v", got, tt.wantNewEnv)
			}
			if tt.wantReport != "" && !strings.Contains(flog.String(), tt.wantReport) {
				t.Errorf("log lacks %q:\n%s", tt.wantReport, flog)
			}
		})
	}
}

func TestTimeoutLogLine(t *testing.T) {
	t.Parallel()
	fn := behaveFn(t, "tlog")
	fn.Timeout = 200 * time.Millisecond
	p, _ := newTestPool(t, Options{}, fn)
	resp, err := p.Invoke(context.Background(), Request{Function: "tlog", Payload: []byte(`{"sleep_ms":2000}`), TailLog: true})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(resp.Log), "\n"), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^START RequestId: ` + resp.RequestID + ` Version: \$LATEST$`),
		regexp.MustCompile(`^END RequestId: ` + resp.RequestID + `$`),
		regexp.MustCompile(`^REPORT RequestId: ` + resp.RequestID + `\tDuration: 200\.00 ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\tStatus: timeout\t$`),
		regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ` + resp.RequestID + ` Task timed out after 0\.20 seconds$`),
	}
	if len(lines) != len(want) {
		t.Fatalf("log lines:\n%s", resp.Log)
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %v", i, lines[i], re)
		}
	}
}

func TestInitFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      map[string]string
		code     string // overrides Code
		initTO   time.Duration
		wantType string
		wantMsg  *regexp.Regexp
	}{
		{name: "exit during init", env: map[string]string{"BEHAVE_INIT_FAIL": "exit"}, wantType: ErrorTypeExit,
			wantMsg: regexp.MustCompile(`^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 3$`)},
		{name: "init error", env: map[string]string{"BEHAVE_INIT_FAIL": "error"}, wantType: "Runtime.BehaveInitError",
			wantMsg: regexp.MustCompile(`^behave: init failed on purpose$`)},
		{name: "init timeout", env: map[string]string{"BEHAVE_INIT_FAIL": "hang"}, initTO: 300 * time.Millisecond, wantType: ErrorTypeTimeout,
			wantMsg: regexp.MustCompile(`^RequestId: [0-9a-f-]{36} Error: Init phase timed out after 0\.30 seconds$`)},
		{name: "missing bootstrap", code: t.TempDir(), wantType: ErrorTypeInvalidEntry,
			wantMsg: regexp.MustCompile(`Couldn't find valid bootstrap`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn := behaveFn(t, "initfail")
			fn.Environment = tt.env
			if tt.code != "" {
				fn.Code = tt.code
			}
			p, _ := newTestPool(t, Options{InitTimeout: tt.initTO}, fn)
			for range 2 { // the function stays usable: the next call retries init
				resp := invoke(t, p, "initfail", `{}`)
				if resp.FunctionError != "Unhandled" || resp.ErrorType != tt.wantType {
					t.Fatalf("FunctionError, ErrorType = %q, %q, want Unhandled, %q (%s)", resp.FunctionError, resp.ErrorType, tt.wantType, resp.Payload)
				}
				if ep := errorPayloadOf(t, resp.Payload); ep.ErrorType != tt.wantType || !tt.wantMsg.MatchString(ep.ErrorMessage) {
					t.Errorf("payload = %s, want %s %v", resp.Payload, tt.wantType, tt.wantMsg)
				}
			}
			if s := p.Stats(); s.InitFailures != 2 {
				t.Errorf("init failures = %d, want 2", s.InitFailures)
			}
		})
	}
}

func TestPayloadLimits(t *testing.T) {
	t.Parallel()
	fn := behaveFn(t, "limits")
	fn.Timeout = 60 * time.Second // 6 MB each way is slow under -race on a busy machine
	p, _ := newTestPool(t, Options{}, fn)
	big := make([]byte, MaxPayloadSize+1)
	if _, err := p.Invoke(context.Background(), Request{Function: "limits", Payload: big}); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("payload of %d bytes: err = %v, want ErrPayloadTooLarge", len(big), err)
	}
	// A request of exactly 6 MB passes.
	ok := []byte(`{"big":1,"pad":"` + strings.Repeat("a", MaxPayloadSize-18) + `"}`)
	if len(ok) != MaxPayloadSize {
		t.Fatalf("test payload is %d bytes", len(ok))
	}
	a := mustAnswer(t, invoke(t, p, "limits", string(ok)))
	if a.Big != "x" {
		t.Errorf("big = %q", a.Big)
	}
	// A response just under the limit passes.
	a = mustAnswer(t, invoke(t, p, "limits", `{"big":6200000}`))
	if len(a.Big) != 6200000 {
		t.Errorf("big = %d bytes", len(a.Big))
	}
}

func TestEnvironmentVariables(t *testing.T) {
	t.Parallel()
	fn := behaveFn(t, "envfn")
	fn.MemorySize = 256
	fn.Region = "eu-west-2"
	fn.Environment = map[string]string{
		"MY_VAR":                     "mine",
		"LANG":                       "C.UTF-8", // overridable
		"AWS_LAMBDA_FUNCTION_NAME":   "spoofed",
		"_LAMBDA_SERVER_PORT":        "8000",
		"AWS_LAMBDA_MAX_CONCURRENCY": "4",
		"_PRIVATE":                   "x",
	}
	p, _ := newTestPool(t, Options{}, fn)
	a := mustAnswer(t, invoke(t, p, "envfn", `{"env":true}`))
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "envfn",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/envfn",
		"AWS_REGION":                      "eu-west-2",
		"AWS_DEFAULT_REGION":              "eu-west-2",
		"LAMBDA_TASK_ROOT":                fn.Code,
		"_HANDLER":                        "bootstrap",
		"TZ":                              ":UTC",
		"LANG":                            "C.UTF-8",
		"PATH":                            os.Getenv("PATH"),
		"MY_VAR":                          "mine",
	}
	for k, v := range want {
		if a.Env[k] != v {
			t.Errorf("%s = %q, want %q", k, a.Env[k], v)
		}
	}
	// Nothing of albedo's own environment leaks in but PATH.
	unset := []string{"_LAMBDA_SERVER_PORT", "AWS_LAMBDA_MAX_CONCURRENCY", "_PRIVATE", "HOME", "GOPATH", "GOFLAGS"}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "PATH" && k != "LANG" && k != "TZ" {
			unset = append(unset, k)
		}
	}
	for _, k := range unset {
		if v, ok := a.Env[k]; ok {
			t.Errorf("%s = %q is set, want unset", k, v)
		}
	}
	if !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(a.Env["AWS_LAMBDA_RUNTIME_API"]) {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q", a.Env["AWS_LAMBDA_RUNTIME_API"])
	}
	if !regexp.MustCompile(`^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$`).MatchString(a.Env["AWS_LAMBDA_LOG_STREAM_NAME"]) {
		t.Errorf("AWS_LAMBDA_LOG_STREAM_NAME = %q", a.Env["AWS_LAMBDA_LOG_STREAM_NAME"])
	}
	if a.Env["_X_AMZN_TRACE_ID"] == "" || a.TraceID == "" || a.RequestID == "" {
		t.Errorf("trace id %q / %q, request id %q", a.Env["_X_AMZN_TRACE_ID"], a.TraceID, a.RequestID)
	}
}

func TestInvocationMetadata(t *testing.T) {
	t.Parallel()
	fn := behaveFn(t, "meta")
	fn.Timeout = 7 * time.Second
	p, _ := newTestPool(t, Options{}, fn)
	trace := "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
	before := time.Now()
	resp, err := p.Invoke(context.Background(), Request{Function: "meta", Payload: []byte(`{}`), TraceID: trace})
	if err != nil {
		t.Fatal(err)
	}
	a := mustAnswer(t, resp)
	if a.RequestID != resp.RequestID || a.TraceID != trace {
		t.Errorf("function saw request id %q trace %q; want %q %q", a.RequestID, a.TraceID, resp.RequestID, trace)
	}
	dl := time.UnixMilli(a.DeadlineMS)
	if dl.Before(before.Add(7*time.Second-time.Millisecond)) || dl.After(time.Now().Add(7*time.Second)) {
		t.Errorf("deadline %v not invoke start + 7s", dl)
	}

	// A caller's request id (the async queue's, kept across retries) is
	// the one the function sees.
	const id = "5f0d3b9e-3c7a-4a55-9f63-0a1b2c3d4e5f"
	resp, err = p.Invoke(context.Background(), Request{Function: "meta", RequestID: id, Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if a := mustAnswer(t, resp); a.RequestID != id || resp.RequestID != id {
		t.Errorf("function saw request id %q, response says %q; want %q", a.RequestID, resp.RequestID, id)
	}
}

func TestTailLogAndFunctionLog(t *testing.T) {
	t.Parallel()
	p, flog := newTestPool(t, Options{}, behaveFn(t, "logs"))
	resp, err := p.Invoke(context.Background(), Request{
		Function: "logs", TailLog: true,
		Payload: []byte(`{"stdout":["out one","out two"],"stderr":["err one"]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	mustAnswer(t, resp)
	id := resp.RequestID
	lines := strings.Split(strings.TrimSuffix(string(resp.Log), "\n"), "\n")
	want := []string{"START RequestId: " + id + " Version: $LATEST", "out one", "out two", "err one", "END RequestId: " + id}
	if len(lines) != len(want)+1 {
		t.Fatalf("tail:\n%s", resp.Log)
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}
	re := regexp.MustCompile(`^REPORT RequestId: ` + id + `\tDuration: \d+\.\d\d ms\tBilled Duration: (\d+) ms\tMemory Size: 128 MB\tMax Memory Used: ([1-9]\d*) MB\tInit Duration: \d+\.\d\d ms\t$`)
	if !re.MatchString(lines[len(lines)-1]) {
		t.Errorf("REPORT = %q, want %v", lines[len(lines)-1], re)
	}
	if !strings.Contains(flog.String(), string(resp.Log)) {
		t.Errorf("function log lacks the invocation's lines:\n%s", flog)
	}
	// Without TailLog, no Log.
	if resp := invoke(t, p, "logs", `{"stdout":["x"]}`); resp.Log != nil {
		t.Errorf("Log = %q without TailLog", resp.Log)
	}
}

func TestIdleTimeoutAndMemoryBudget(t *testing.T) {
	t.Parallel()
	t.Run("idle timeout", func(t *testing.T) {
		t.Parallel()
		p, _ := newTestPool(t, Options{IdleTimeout: 100 * time.Millisecond}, behaveFn(t, "idle"))
		pid := mustAnswer(t, invoke(t, p, "idle", `{}`)).PID
		waitFor(t, func() bool { return p.Stats().Live == 0 })
		if processAlive(pid) {
			t.Errorf("pid %d alive after idle timeout", pid)
		}
		if got := mustAnswer(t, invoke(t, p, "idle", `{}`)).PID; got == pid {
			t.Error("invocation after idle timeout reused the stopped environment")
		}
	})
	t.Run("memory budget evicts least recently used", func(t *testing.T) {
		t.Parallel()
		a, b, c := behaveFn(t, "a"), behaveFn(t, "b"), behaveFn(t, "c")
		p, _ := newTestPool(t, Options{MemoryBudget: 256}, a, b, c)
		pa := mustAnswer(t, invoke(t, p, "a", `{}`)).PID
		pb := mustAnswer(t, invoke(t, p, "b", `{}`)).PID
		mustAnswer(t, invoke(t, p, "a", `{}`)) // b is now the least recently used
		mustAnswer(t, invoke(t, p, "c", `{}`)) // needs room: evicts b
		waitFor(t, func() bool { return !processAlive(pb) })
		if !processAlive(pa) {
			t.Error("a was evicted, want b (least recently used)")
		}
		if s := p.Stats(); s.MemoryUsed > 256 {
			t.Errorf("memory used %d MB > budget", s.MemoryUsed)
		}
	})
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

func TestCloseLeavesNoProcesses(t *testing.T) {
	t.Parallel()
	plain := behaveFn(t, "plain")
	term := behaveFn(t, "term")
	term.Environment = map[string]string{"BEHAVE_SIGTERM": "1"}
	flog := &syncBuffer{}
	p, err := New(Options{FunctionLog: flog}, []Function{plain, term})
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			name := []string{"plain", "term"}[i%2]
			pid := mustAnswer(t, invoke(t, p, name, `{"sleep_ms":100}`)).PID
			mu.Lock()
			pids = append(pids, pid)
			mu.Unlock()
		})
	}
	wg.Wait()
	// One invocation in flight while closing: it may finish.
	inflight := make(chan Response, 1)
	go func() {
		resp, _ := p.Invoke(context.Background(), Request{Function: "plain", Payload: []byte(`{"sleep_ms":300}`)})
		inflight <- resp
	}()
	waitFor(t, func() bool { return p.Stats().Invocations == 5 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	pids = append(pids, mustAnswer(t, <-inflight).PID)
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("pid %d still alive after Close", pid)
		}
	}
	if _, err := p.Invoke(context.Background(), Request{Function: "plain"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close: %v, want ErrClosed", err)
	}
	if !strings.Contains(flog.String(), "behave: SIGTERM") {
		t.Errorf("function with an extension got no SIGTERM:\n%s", flog)
	}
	if s := p.Stats(); s.Live != 0 {
		t.Errorf("live = %d after Close", s.Live)
	}
}

func TestInvokeErrors(t *testing.T) {
	t.Parallel()
	p, _ := newTestPool(t, Options{}, behaveFn(t, "errs"))
	if _, err := p.Invoke(context.Background(), Request{Function: "nope"}); !errors.Is(err, ErrFunctionNotFound) {
		t.Errorf("unknown function: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Invoke(ctx, Request{Function: "errs"}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
	// A caller that gives up does not kill the invocation: the environment
	// becomes idle again once the function answers.
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := p.Invoke(ctx, Request{Function: "errs", Payload: []byte(`{"sleep_ms":400}`)}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("short deadline: %v", err)
	}
	waitFor(t, func() bool { return p.Stats().Idle == 1 })
	mustAnswer(t, invoke(t, p, "errs", `{}`))
	if s := p.Stats(); s.ColdStarts != 1 {
		t.Errorf("cold starts = %d, want 1", s.ColdStarts)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		fns  []Function
		want string
	}{
		{name: "duplicate", fns: []Function{{Name: "a", Code: "/x"}, {Name: "a", Code: "/x"}}, want: "duplicate function name"},
		{name: "relative code", fns: []Function{{Name: "a", Code: "x"}}, want: "absolute"},
		{name: "runtime", fns: []Function{{Name: "a", Code: "/x", Runtime: "java21"}}, want: "unsupported runtime"},
		{name: "managed without handler", fns: []Function{{Name: "a", Code: "/x", Runtime: "nodejs22.x"}}, want: "needs a handler"},
		{name: "relative layer", fns: []Function{{Name: "a", Code: "/x", Layers: []string{"l"}}}, want: "layers must be absolute"},
		{name: "builtin without command", fns: []Function{{Name: "a", Runtime: "builtin"}}, want: "BuiltinCommand"},
		{name: "reserved", fns: []Function{{Name: "a", Code: "/x", Reserved: -2}}, want: "negative"},
		{name: "options", opts: Options{MaxConcurrency: -1}, want: "max concurrency"},
		{name: "cpu model", fns: []Function{{Name: "a", Code: "/x", CPUModel: "lambda"}}, want: "cpu model must be host or aws"},
		{name: "cgroup name", opts: Options{CgroupName: "a/b"}, want: "not a single path element"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts, tt.fns)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want %q", err, tt.want)
			}
		})
	}
	p, err := New(Options{}, []Function{{Name: "b", Code: "/x"}, {Name: "a", Code: "/y", Environment: map[string]string{"K": "v"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	fns := p.Functions()
	if len(fns) != 2 || fns[0].Name != "a" || fns[1].Name != "b" {
		t.Errorf("Functions() = %+v", fns)
	}
	fns[0].Environment["K"] = "changed"
	if f, ok := p.Function("a"); !ok || f.Environment["K"] != "v" || f.Handler != "bootstrap" || f.MemorySize != 128 || f.Timeout != 3*time.Second {
		t.Errorf("Function(a) = %+v, %v", f, ok)
	}
}

func TestMostRecentlyUsedFirst(t *testing.T) {
	t.Parallel()
	p, _ := newTestPool(t, Options{}, behaveFn(t, "mru"))
	var early, late answer
	var wg sync.WaitGroup
	wg.Go(func() { early = mustAnswer(t, invoke(t, p, "mru", `{"sleep_ms":200}`)) })
	wg.Go(func() { late = mustAnswer(t, invoke(t, p, "mru", `{"sleep_ms":1500}`)) })
	wg.Wait()
	if early.PID == late.PID {
		t.Fatal("overlapping invocations shared an environment")
	}
	if got := mustAnswer(t, invoke(t, p, "mru", `{}`)).PID; got != late.PID {
		t.Errorf("next invocation ran in pid %d, want %d (most recently used)", got, late.PID)
	}
}

func TestCloseCutsInFlightAtDeadline(t *testing.T) {
	t.Parallel()
	p, err := New(Options{FunctionLog: &syncBuffer{}}, []Function{behaveFn(t, "slow")})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Response, 1)
	go func() {
		resp, _ := p.Invoke(context.Background(), Request{Function: "slow", Payload: []byte(`{"sleep_ms":4000}`)})
		done <- resp
	}()
	waitFor(t, func() bool { return p.Stats().Invocations == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want DeadlineExceeded", err)
	}
	resp := <-done
	if resp.ErrorType != ErrorTypeExit || !strings.Contains(string(resp.Payload), "signal: killed") {
		t.Errorf("cut invocation = %s %s", resp.ErrorType, resp.Payload)
	}
	if s := p.Stats(); s.Live != 0 {
		t.Errorf("live = %d after Close", s.Live)
	}
}

// Lambda's concurrency counts invocations in flight, not idle environments:
// an idle environment of another function gives way to a new one instead
// of throttling it.
func TestMaxConcurrencyEvictsIdle(t *testing.T) {
	t.Parallel()
	a, b := behaveFn(t, "a"), behaveFn(t, "b")
	p, _ := newTestPool(t, Options{MaxConcurrency: 1}, a, b)
	pa := mustAnswer(t, invoke(t, p, "a", `{}`)).PID
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	resp, err := p.Invoke(ctx, Request{Function: "b", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatalf("Invoke(b) with a idle = %v, want the idle environment of a evicted", err)
	}
	mustAnswer(t, resp)
	waitFor(t, func() bool { return !processAlive(pa) })
	if s := p.Stats(); s.Live > 1 {
		t.Errorf("live = %d, want <= 1", s.Live)
	}
}

// TestStoppedEnvironmentClosesFiles: a dead environment leaves no open
// file behind (the output pipe's read end included), so environments that
// come and go do not pile up descriptors until a garbage collection.
func TestStoppedEnvironmentClosesFiles(t *testing.T) {
	t.Parallel()
	p, _ := newTestPool(t, Options{}, behaveFn(t, "fds"))
	mustAnswer(t, invoke(t, p, "fds", `{}`))
	p.mu.Lock()
	e := p.set.Load().byName["fds"].idle[0]
	p.mu.Unlock()
	e.stop(reasonShutdown)
	<-e.dead
	for name, f := range map[string]*os.File{"output read end": e.out, "output write end": e.outW} {
		if _, err := f.Stat(); !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s still open after the environment died (Stat err = %v)", name, err)
		}
	}
	if _, err := e.ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("listener still open: Accept err = %v", err)
	}
}

// Functions and Function return copies: a caller that edits a function's
// layers does not change the Pool's.
func TestFunctionsCopyLayers(t *testing.T) {
	p, err := New(Options{}, []Function{{Name: "a", Code: "/y", Layers: []string{"/l"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	p.Functions()[0].Layers[0] = "/changed"
	f, _ := p.Function("a")
	f.Layers[0] = "/changed"
	if f, _ := p.Function("a"); len(f.Layers) != 1 || f.Layers[0] != "/l" {
		t.Errorf("Function(a).Layers = %q, want [/l]", f.Layers)
	}
}
