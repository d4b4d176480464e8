package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// serveChildEnv set to "1" makes TestMain run the test binary as
// `albedo serve …` (see e2e_test.go).
const serveChildEnv = "ALBEDO_E2E_SERVE_CHILD"

// The admin credentials of the tests' configs.
const (
	testAccessKey = "AKIDEXAMPLE"
	testSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// Durability test parameters.
const (
	durableEvents   = 1000
	durableSenders  = 16
	durableKillAt   = 250 // delivered lines before SIGKILL
	durableReserved = 4   // recorder's reserved concurrency
)

// lambdaClient is the AWS SDK's Lambda client for albedo's admin address.
// It never retries: every answer the test sees is albedo's first.
func lambdaClient(endpoint string) *lambda.Client {
	return lambda.New(lambda.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
		Retryer:      aws.NopRetryer{},
	})
}

// freeLoopbackAddr returns 127.0.0.1:PORT with a port the kernel just
// handed out and that is free again.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// childAlbedo is `albedo serve` running as a child process (the test binary
// re-executed with serveChildEnv).
type childAlbedo struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process is reaped
	err  error         // cmd.Wait's result, valid after done
}

// startAlbedoChild starts albedo serve -config configPath [extra...]; its
// output is appended to logPath. Cleanup stops it if it still runs.
func startAlbedoChild(t *testing.T, configPath, logPath string, extra ...string) *childAlbedo {
	t.Helper()
	return startAlbedo(t, nil, logPath, append([]string{"serve", "-config", configPath}, extra...)...)
}

// startAlbedo starts `albedo args…` with env added to the test's
// environment; its output is appended to logPath. Cleanup stops it if it
// still runs.
func startAlbedo(t *testing.T, env []string, logPath string, args ...string) *childAlbedo {
	t.Helper()
	return startAlbedoIn(t, "", env, logPath, args...)
}

// startAlbedoIn is startAlbedo in the working directory dir ("" = the
// test's).
func startAlbedoIn(t *testing.T, dir string, env []string, logPath string, args ...string) *childAlbedo {
	t.Helper()
	return startAlbedoStreams(t, dir, env, logPath, logPath, args...)
}

// startAlbedoStreams is startAlbedoIn with stdout and stderr appended to
// files of their own (they may be the same path).
func startAlbedoStreams(t *testing.T, dir string, env []string, stdoutPath, stderrPath string, args ...string) *childAlbedo {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	open := func(path string) *os.File {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	out := open(stdoutPath)
	defer out.Close()
	errOut := out
	if stderrPath != stdoutPath {
		errOut = open(stderrPath)
		defer errOut.Close()
	}
	cmd := exec.Command(self, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), serveChildEnv+"=1"), env...)
	cmd.Stdout = out
	cmd.Stderr = errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childAlbedo{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() { c.stop() })
	return c
}

// stop ends a child that still runs as a user would, SIGTERM, so that it
// removes its execution environments' cgroups (a SIGKILLed albedo leaves
// them for the next albedo on its state_dir, and a test's state_dir has
// none); SIGKILL after 15 s.
func (c *childAlbedo) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		c.kill()
	}
}

// kill SIGKILLs the child and waits until it is reaped.
func (c *childAlbedo) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

func (c *childAlbedo) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// waitListening waits until addr accepts connections, failing t when the
// child exits first or after a bound.
func (c *childAlbedo) waitListening(t *testing.T, addr string, logPath string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if c.exited() {
			t.Fatalf("albedo exited before listening (%v):\n%s", c.err, logTail(logPath))
		}
		if time.Now().After(deadline) {
			t.Fatalf("albedo not listening on %s after 30 s:\n%s", addr, logTail(logPath))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logTail is the last 4 KB of the child's log.
func logTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

// deliveredLine is one line of the recorder function's file.
type deliveredLine struct {
	ID  int `json:"id"`
	PID int `json:"pid"`
}

// readDelivered parses the recorder's file (missing = nothing delivered).
func readDelivered(path string) ([]deliveredLine, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []deliveredLine
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var d deliveredLine
		if err := json.Unmarshal(line, &d); err != nil {
			return nil, fmt.Errorf("line %d %q: %w", i+1, line, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// distinctIDs counts the different ids in lines.
func distinctIDs(lines []deliveredLine) int {
	seen := make(map[int]bool, len(lines))
	for _, d := range lines {
		seen[d.ID] = true
	}
	return len(seen)
}

// processesWithEnv lists the live (not zombie) processes whose environment
// contains entry (NAME=value).
func processesWithEnv(entry string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	needle := []byte("\x00" + entry + "\x00")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(append([]byte{0}, env...), needle) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// state is the field after the parenthesised command name
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// waitNoProcesses waits (bounded) until no process has entry in its
// environment; it reports and kills the ones left.
func waitNoProcesses(t *testing.T, entry, when string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := processesWithEnv(entry)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: function processes still alive after 10 s: %v", when, pids)
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const durableConfig = `
max_concurrency: 8
state_dir: %q
admin:
  address: %q
  credentials: {access_key_id: %q, secret_access_key: %q}
listeners:
  - port: %s
    address: 127.0.0.1
    default_action: {forward: {target_group: rec}}
target_groups:
  - name: rec
    targets: [recorder]
functions:
  - name: recorder
    runtime: provided.al2023
    code: %q
    timeout: 30
    reserved_concurrency: %d
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
    environment:
      RECORDER_FILE: %q
      RECORDER_GATE: %q
      RECORDER_SLEEP_MS: "2"
`

// durableRig is one albedo.yaml with the recorder function, its state
// directory and the files the tests watch.
type durableRig struct {
	t         *testing.T
	admin     string // 127.0.0.1:PORT
	cfgPath   string
	logPath   string // both children's output
	delivered string // the recorder's file
	gate      string // deliveries wait until this file exists
	marker    string // environment entry of the recorder's processes
}

func newDurableRig(t *testing.T) *durableRig {
	t.Helper()
	if testing.Short() {
		t.Skip("starts albedo twice as a child process")
	}
	dir := t.TempDir()
	code := exectest.Build(t, "recorder")
	r := &durableRig{
		t:         t,
		admin:     freeLoopbackAddr(t),
		cfgPath:   filepath.Join(dir, "albedo.yaml"),
		logPath:   filepath.Join(dir, "albedo.log"),
		delivered: filepath.Join(dir, "delivered"),
		gate:      filepath.Join(dir, "gate"),
	}
	r.marker = "RECORDER_FILE=" + r.delivered
	_, lport, _ := net.SplitHostPort(freeLoopbackAddr(t))
	cfgText := fmt.Sprintf(durableConfig, filepath.Join(dir, "state"), r.admin, testAccessKey, testSecretKey,
		lport, code, durableReserved, r.delivered, r.gate)
	if err := os.WriteFile(r.cfgPath, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("albedo log (tail):\n%s", logTail(r.logPath))
		}
		// The last albedo may have been SIGKILLed (or refused a damaged
		// state): no later one ends what its cgroups still hold.
		if _, err := executor.RemoveLeftovers(executor.CgroupNameFor(filepath.Join(dir, "state"))); err != nil {
			t.Errorf("remove the cgroups albedo left: %v", err)
		}
	})
	return r
}

// start starts albedo serve and waits until its admin listener accepts.
func (r *durableRig) start() *childAlbedo {
	r.t.Helper()
	c := startAlbedoChild(r.t, r.cfgPath, r.logPath)
	c.waitListening(r.t, r.admin, r.logPath)
	return c
}

func (r *durableRig) openGate() {
	r.t.Helper()
	if err := os.WriteFile(r.gate, nil, 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// sendEvents invokes the recorder with {"id":0} … {"id":n-1}, InvocationType
// Event, from durableSenders goroutines. acked[id] is whether the invoke
// got its 202; onAck (if not nil) runs after each 202. errs lists the
// other outcomes.
func (r *durableRig) sendEvents(client *lambda.Client, n int, onAck func()) (acked []bool, errs []string) {
	acked = make([]bool, n)
	ids := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range durableSenders {
		wg.Go(func() {
			for id := range ids {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				out, err := client.Invoke(ctx, &lambda.InvokeInput{
					FunctionName:   aws.String("recorder"),
					InvocationType: types.InvocationTypeEvent,
					Payload:        fmt.Appendf(nil, `{"id":%d}`, id),
				})
				cancel()
				if err == nil && out.StatusCode != 202 {
					err = fmt.Errorf("status %d, want 202", out.StatusCode)
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Sprintf("id %d: %v", id, err))
				} else {
					acked[id] = true
				}
				mu.Unlock()
				if err == nil && onAck != nil {
					onAck()
				}
			}
		})
	}
	for id := range n {
		ids <- id
	}
	close(ids)
	wg.Wait()
	return acked, errs
}

// waitDelivered polls the recorder's file until done(lines), the child
// exits or limit passes; ok reports done.
func (r *durableRig) waitDelivered(c *childAlbedo, limit time.Duration, done func([]deliveredLine) bool) (lines []deliveredLine, ok bool) {
	r.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		lines, err := readDelivered(r.delivered)
		if err != nil {
			r.t.Fatal(err)
		}
		if done(lines) {
			return lines, true
		}
		if c.exited() {
			r.t.Fatalf("albedo exited (%v) with %d lines delivered", c.err, len(lines))
		}
		if time.Now().After(deadline) {
			return lines, false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kill SIGKILLs albedo and checks that its function processes died with it
// (their own process groups, Pdeathsig SIGKILL).
func (r *durableRig) kill(c *childAlbedo) {
	r.t.Helper()
	// The leftover check must have something to miss.
	if len(processesWithEnv(r.marker)) == 0 {
		r.t.Errorf("no function process visible before the kill: the leftover check is vacuous")
	}
	c.kill()
	waitNoProcesses(r.t, r.marker, "after SIGKILL")
}

// stop sends SIGTERM and waits (bounded) for a clean exit; no function
// process may outlive albedo.
func (r *durableRig) stop(c *childAlbedo) {
	r.t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		if c.err != nil {
			r.t.Errorf("albedo after SIGTERM: %v", c.err)
		}
	case <-time.After(40 * time.Second):
		r.t.Errorf("albedo still running 40 s after SIGTERM")
		c.kill()
	}
	waitNoProcesses(r.t, r.marker, "after SIGTERM")
}

// checkRaces fails the test if the race detector reported in albedo.
func (r *durableRig) checkRaces() {
	if b, err := os.ReadFile(r.logPath); err == nil && bytes.Contains(b, []byte("DATA RACE")) {
		r.t.Errorf("the race detector reported a data race in albedo")
	}
}

// tally counts each id's deliveries; it fails on an id that was never sent.
func tally(t *testing.T, lines []deliveredLine, n int) (counts []int, dups []int) {
	t.Helper()
	counts = make([]int, n)
	for _, d := range lines {
		if d.ID < 0 || d.ID >= n {
			t.Fatalf("recorded id %d was never sent", d.ID)
		}
		counts[d.ID]++
	}
	for id, c := range counts {
		for range c - 1 {
			dups = append(dups, id)
		}
	}
	return counts, dups
}

// duplicatesWithin counts lines whose id already occurred in lines.
func duplicatesWithin(lines []deliveredLine) int { return len(lines) - distinctIDs(lines) }

// TestAsyncSurvivesSIGKILL accepts durableEvents Event invocations through
// the AWS SDK, SIGKILLs albedo (a child process) while it delivers them,
// restarts it on the same state directory and checks that every event was
// delivered at least once. The recorder function appends each delivered
// id to a file with O_APPEND and fsync; duplicates are reported.
func TestAsyncSurvivesSIGKILL(t *testing.T) {
	r := newDurableRig(t)

	// Run 1: accept everything while deliveries wait at the gate.
	began := time.Now()
	first := r.start()
	client := lambdaClient("http://" + r.admin)
	acceptStart := time.Now()
	acked, errs := r.sendEvents(client, durableEvents, nil)
	acceptTime := time.Since(acceptStart)
	if len(errs) > 0 {
		t.Fatalf("%d of %d invokes not accepted, first: %s", len(errs), durableEvents, errs[0])
	}
	if got, err := readDelivered(r.delivered); err != nil || len(got) != 0 {
		t.Fatalf("delivered before the gate opened: %d lines (%v)", len(got), err)
	}

	// Open the gate, let some events through, then SIGKILL albedo.
	r.openGate()
	if got, ok := r.waitDelivered(first, 30*time.Second, func(l []deliveredLine) bool { return len(l) >= durableKillAt }); !ok {
		t.Fatalf("only %d events delivered 30 s after the gate opened", len(got))
	}
	r.kill(first)
	killedAt := time.Since(began)
	before, err := readDelivered(r.delivered)
	if err != nil {
		t.Fatal(err)
	}
	if distinctIDs(before) >= durableEvents {
		t.Fatalf("all %d events were delivered before the kill: the test interrupted nothing", durableEvents)
	}

	// Run 2: the same config and state directory.
	restart := time.Now()
	second := r.start()
	r.waitDelivered(second, 60*time.Second, func(l []deliveredLine) bool { return distinctIDs(l) >= durableEvents })
	recovery := time.Since(restart)
	r.stop(second)
	all, err := readDelivered(r.delivered)
	if err != nil {
		t.Fatal(err)
	}

	counts, dups := tally(t, all, durableEvents)
	var lost []int
	for id, n := range counts {
		if n == 0 {
			lost = append(lost, id)
		}
	}
	after := all[len(before):]
	sameRun := duplicatesWithin(before) + duplicatesWithin(after)
	t.Logf("accepted %d (202) in %v; delivered before SIGKILL (%v after the first start): %d lines, %d distinct; "+
		"after restart: %d lines in %v; total %d lines, %d distinct, %d duplicates %v (%d within one run)",
		count(acked), acceptTime.Round(time.Millisecond), killedAt.Round(time.Millisecond),
		len(before), distinctIDs(before), len(after), recovery.Round(time.Millisecond),
		len(all), distinctIDs(all), len(dups), dups, sameRun)
	if len(lost) > 0 {
		t.Errorf("%d events lost (never delivered within 60 s of the restart), first: %v", len(lost), lost[:min(len(lost), 20)])
	}
	// The queue deletes an event only after its delivery finished; without
	// a crash nothing is delivered twice.
	if sameRun > 0 {
		t.Errorf("%d duplicates within one run (no crash in between)", sameRun)
	}
	r.checkRaces()
}

// TestAsyncSIGKILLDuringAccept SIGKILLs albedo while invokes are still
// being accepted (and delivered): every invoke that got its 202 must be
// delivered after the restart. Invokes that failed may or may not have
// been stored; they are reported.
func TestAsyncSIGKILLDuringAccept(t *testing.T) {
	r := newDurableRig(t)
	r.openGate()
	first := r.start()
	client := lambdaClient("http://" + r.admin)
	var n atomic.Int64
	var visible atomic.Bool
	acked, errs := r.sendEvents(client, durableEvents, func() {
		if n.Add(1) == durableKillAt {
			visible.Store(len(processesWithEnv(r.marker)) > 0)
			_ = first.cmd.Process.Signal(syscall.SIGKILL)
		}
	})
	first.kill() // waits for the SIGKILLed child
	waitNoProcesses(t, r.marker, "after SIGKILL")
	if !visible.Load() {
		t.Errorf("no function process visible before the kill: the leftover check is vacuous")
	}
	if len(errs) == 0 {
		t.Fatalf("every invoke was accepted: the kill came too late to interrupt accepting")
	}
	before, err := readDelivered(r.delivered)
	if err != nil {
		t.Fatal(err)
	}

	restart := time.Now()
	second := r.start()
	allAcked := func(lines []deliveredLine) bool {
		seen := make([]bool, durableEvents)
		for _, d := range lines {
			if d.ID >= 0 && d.ID < durableEvents {
				seen[d.ID] = true
			}
		}
		for id, a := range acked {
			if a && !seen[id] {
				return false
			}
		}
		return true
	}
	r.waitDelivered(second, 60*time.Second, allAcked)
	recovery := time.Since(restart)
	r.stop(second)
	all, err := readDelivered(r.delivered)
	if err != nil {
		t.Fatal(err)
	}

	counts, dups := tally(t, all, durableEvents)
	var lost []int
	var unackedDelivered int
	for id, c := range counts {
		switch {
		case acked[id] && c == 0:
			lost = append(lost, id)
		case !acked[id] && c > 0:
			unackedDelivered++
		}
	}
	t.Logf("accepted %d (202), %d failed (first: %s); delivered before SIGKILL: %d lines; "+
		"after restart: %d lines in %v; %d failed invokes delivered anyway; %d duplicates %v",
		count(acked), len(errs), errs[0], len(before), len(all)-len(before), recovery.Round(time.Millisecond),
		unackedDelivered, len(dups), dups)
	if len(lost) > 0 {
		t.Errorf("%d accepted events lost, first: %v", len(lost), lost[:min(len(lost), 20)])
	}
	if sameRun := duplicatesWithin(before) + duplicatesWithin(all[len(before):]); sameRun > 0 {
		t.Errorf("%d duplicates within one run (no crash in between)", sameRun)
	}
	r.checkRaces()
}

// count is the number of true values.
func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

const invokeAPIConfig = `
admin:
  credentials: {access_key_id: %q, secret_access_key: %q}
listeners:
  - port: 1
    default_action: {forward: {target_group: echo}}
target_groups:
  - name: echo
    targets: [echo]
functions:
  - name: echo
    runtime: builtin
    handler: echo
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
  - name: zero
    runtime: builtin
    handler: noop
    reserved_concurrency: 0
`

// TestInvokeAPIAgainstServe drives the Invoke and ListFunctions APIs of
// albedo's admin listener, as serve wires them, with the AWS SDK.
func TestInvokeAPIAgainstServe(t *testing.T) {
	cfg, err := config.Parse(fmt.Appendf(nil, invokeAPIConfig, testAccessKey, testSecretKey),
		filepath.Join(t.TempDir(), "albedo.yaml"))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	e := startE2E(t, cfg)
	client := lambdaClient(e.admin)
	payload := []byte(`{"hello":["world",1]}`)

	tests := []struct {
		name  string
		in    lambda.InvokeInput
		check func(t *testing.T, out *lambda.InvokeOutput, err error)
	}{
		{
			name: "RequestResponse",
			in:   lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: payload},
			check: func(t *testing.T, out *lambda.InvokeOutput, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if out.StatusCode != 200 || out.FunctionError != nil {
					t.Fatalf("status %d, function error %v", out.StatusCode, aws.ToString(out.FunctionError))
				}
				var resp echoResponse
				if err := json.Unmarshal(out.Payload, &resp); err != nil {
					t.Fatalf("%v: %s", err, out.Payload)
				}
				var want bytes.Buffer
				_ = json.Indent(&want, payload, "", "  ")
				want.WriteByte('\n')
				if resp.StatusCode != 200 || resp.Body != want.String() {
					t.Errorf("payload %s, want body %q", out.Payload, want.String())
				}
				if out.LogResult != nil {
					t.Errorf("LogResult without Tail: %q", *out.LogResult)
				}
			},
		},
		{
			name: "Tail",
			in:   lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: payload, LogType: types.LogTypeTail},
			check: func(t *testing.T, out *lambda.InvokeOutput, err error) {
				if err != nil {
					t.Fatal(err)
				}
				log, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
				if err != nil {
					t.Fatalf("LogResult %q: %v", aws.ToString(out.LogResult), err)
				}
				if !strings.Contains(string(log), "REPORT RequestId: ") {
					t.Errorf("log has no REPORT line: %q", log)
				}
			},
		},
		{
			name: "DryRun",
			in:   lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeDryRun},
			check: func(t *testing.T, out *lambda.InvokeOutput, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if out.StatusCode != 204 || len(out.Payload) != 0 {
					t.Errorf("status %d payload %q, want 204 and none", out.StatusCode, out.Payload)
				}
			},
		},
		{
			name: "unknown function",
			in:   lambda.InvokeInput{FunctionName: aws.String("nope"), Payload: payload},
			check: func(t *testing.T, _ *lambda.InvokeOutput, err error) {
				var nf *types.ResourceNotFoundException
				if !errors.As(err, &nf) {
					t.Errorf("err = %v, want ResourceNotFoundException", err)
				}
			},
		},
		{
			name: "reserved concurrency 0",
			in:   lambda.InvokeInput{FunctionName: aws.String("zero"), Payload: payload},
			check: func(t *testing.T, _ *lambda.InvokeOutput, err error) {
				var tm *types.TooManyRequestsException
				if !errors.As(err, &tm) {
					t.Errorf("err = %v, want TooManyRequestsException", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := client.Invoke(ctx, &tt.in)
			tt.check(t, out, err)
		})
	}

	t.Run("ListFunctions", func(t *testing.T) {
		out, err := client.ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range out.Functions {
			names = append(names, aws.ToString(f.FunctionName))
			if want := "arn:aws:lambda:us-east-1:123456789012:function:" + aws.ToString(f.FunctionName); aws.ToString(f.FunctionArn) != want {
				t.Errorf("FunctionArn %q, want %q", aws.ToString(f.FunctionArn), want)
			}
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"echo", "zero"}) {
			t.Errorf("functions %q, want [echo zero]", names)
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		bad := lambda.New(lambda.Options{
			BaseEndpoint: aws.String(e.admin),
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider(testAccessKey, "not-the-secret", ""),
			Retryer:      aws.NopRetryer{},
		})
		_, err := bad.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: payload})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
			t.Errorf("err = %v, want AccessDeniedException", err)
		}
	})
}
