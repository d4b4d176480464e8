package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// hardeningConfig serves the albecho test function on one listener (all
// paths) and on the admin API. %[1]s state dir, %[2]s admin address,
// %[3]s listener port, %[4]s albecho's directory, %[5]s extra admin
// settings.
const hardeningConfig = `
state_dir: %[1]s
admin:
  address: %[2]s
%[5]s
listeners:
  - port: %[3]s
    address: 127.0.0.1
    default_action: {forward: {target_group: echo}}
target_groups:
  - name: echo
    targets: [albecho]
functions:
  - name: albecho
    runtime: provided.al2023
    code: %[4]s
    timeout: 1
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
`

// served is `albedo serve` running as a child process on hardeningConfig.
type served struct {
	t        *testing.T
	c        *childAlbedo
	dir      string
	logPath  string
	listener string // 127.0.0.1:PORT
	admin    string // 127.0.0.1:PORT
}

// startServed writes hardeningConfig (adminExtra goes under admin:) and
// starts albedo serve on it with extra flags, waiting for both addresses.
func startServed(t *testing.T, adminExtra string, extra ...string) *served {
	t.Helper()
	if testing.Short() {
		t.Skip("starts albedo as a child process")
	}
	dir := t.TempDir()
	s := &served{t: t, dir: dir, logPath: filepath.Join(dir, "albedo.log"), admin: freeLoopbackAddr(t), listener: freeLoopbackAddr(t)}
	_, port, _ := net.SplitHostPort(s.listener)
	cfg := fmt.Sprintf(hardeningConfig, filepath.Join(dir, "state"), s.admin, port, exectest.Build(t, "albecho"), adminExtra)
	cfgPath := filepath.Join(dir, "albedo.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	s.c = startAlbedoChild(t, cfgPath, s.logPath, extra...)
	s.c.waitListening(t, s.listener, s.logPath)
	s.c.waitListening(t, s.admin, s.logPath)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("albedo log (tail):\n%s", logTail(s.logPath))
		}
	})
	return s
}

// log is the child's output so far.
func (s *served) log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// get sends GET path to the listener and returns the status.
func (s *served) get(path string) (int, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + s.listener + path)
	c := &fasthttp.Client{ReadTimeout: 20 * time.Second, WriteTimeout: 20 * time.Second}
	if err := c.Do(req, resp); err != nil {
		return 0, err
	}
	return resp.StatusCode(), nil
}

// rssKB is the VmRSS of process pid, in KiB.
func rssKB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read RSS: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// Slow connections of TestServeMemoryFollowsBytes: half to the admin API
// (an Invoke declaring 4.4 MB), half to the listener (a POST declaring
// 1 MiB, the ALB limit), 817 MB declared in all; each sends 2 bytes, then
// a byte a second.
const (
	slowConns       = 300
	slowAdminLength = 4_400_000
	slowListenerLen = 1 << 20
)

// TestServeMemoryFollowsBytes: 300 connections that declare 817 MB of
// bodies and send almost nothing raise albedo's RSS by less than 100 MB,
// while ordinary requests to the listener and the admin API keep
// succeeding. (Before, each connection allocated its declared
// Content-Length up front: +800 MB, never given back.)
func TestServeMemoryFollowsBytes(t *testing.T) {
	s := startServed(t, "")
	pid := s.c.cmd.Process.Pid
	client := lambdaClient("http://" + s.admin)
	ordinary := func() error {
		if code, err := s.get("/x"); err != nil || code != 200 {
			return fmt.Errorf("listener GET: %d %v", code, err)
		}
		out, err := client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("albecho"), Payload: []byte(`{"path":"/x"}`)})
		if err != nil || out.FunctionError != nil {
			return fmt.Errorf("admin Invoke: %v", err)
		}
		return nil
	}
	for range 5 { // warm: a function environment, the server's pools
		if err := ordinary(); err != nil {
			t.Fatal(err)
		}
	}
	before := rssKB(t, pid)

	conns := make([]net.Conn, 0, slowConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	declared := 0
	for i := range slowConns {
		addr, head := s.listener, fmt.Sprintf("POST /x HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"", slowListenerLen)
		declared += slowListenerLen
		if i%2 == 0 {
			addr, head = s.admin, fmt.Sprintf("POST /2015-03-31/functions/albecho/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n{\"", slowAdminLength)
			declared += slowAdminLength - slowListenerLen
		}
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	stop := make(chan struct{})
	var trickle sync.WaitGroup
	trickle.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				for _, c := range conns {
					_, _ = c.Write([]byte("a"))
				}
			}
		}
	})
	defer func() {
		close(stop)
		trickle.Wait()
	}()

	// Ordinary requests while the slow ones hold their connections.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 10 {
		wg.Go(func() {
			if err := ordinary(); err != nil {
				errs <- err
			}
		})
	}
	during := 0
	for range 6 {
		time.Sleep(500 * time.Millisecond)
		during = max(during, rssKB(t, pid))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("ordinary request during the slow ones: %v", err)
	}
	close(stop)
	trickle.Wait()
	stop = make(chan struct{}) // for the deferred close
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	time.Sleep(2 * time.Second)
	after := rssKB(t, pid)
	t.Logf("albedo RSS: before %d KiB, during %d slow connections declaring %d MB: %d KiB (+%d KiB), after closing them: %d KiB",
		before, slowConns, declared/1e6, during, during-before, after)
	if grown := during - before; grown > 100<<10 {
		t.Errorf("RSS grew by %d MiB with %d slow connections declaring %d MB, want < 100 MiB", grown>>10, slowConns, declared/1e6)
	}
	if err := ordinary(); err != nil {
		t.Errorf("after: %v", err)
	}
}

// rawResponse writes raw to addr and reads one response (after any
// "100 Continue", which it reports), with a 10 s bound.
func rawResponse(t *testing.T, addr, raw string, body []byte) (*fasthttp.Response, bool, time.Duration) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	begin := time.Now()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = c.Write(body) }()
	br := bufio.NewReader(c)
	first, err := br.Peek(len("HTTP/1.1 100"))
	if err != nil {
		t.Fatalf("no answer within 10 s: %v", err)
	}
	continued := strings.HasSuffix(string(first), " 100")
	if continued {
		_, _ = br.ReadString('\n')
		_, _ = br.ReadString('\n')
	}
	resp := &fasthttp.Response{}
	if err := resp.Read(br); err != nil {
		t.Fatalf("read response: %v", err)
	}
	return resp, continued, time.Since(begin)
}

// TestServeBareLF: a request whose lines end in a bare LF is answered 400
// at once on the listener and the admin API (before: 408 after 60 s).
func TestServeBareLF(t *testing.T) {
	s := startServed(t, "")
	for _, addr := range []string{s.listener, s.admin} {
		resp, _, took := rawResponse(t, addr, "GET /2015-03-31/functions/ HTTP/1.1\nHost: 127.0.0.1\n\n", nil)
		if resp.StatusCode() != 400 || took > 2*time.Second {
			t.Errorf("%s: %d after %s, want 400 at once", addr, resp.StatusCode(), took)
		}
	}
}

// TestServeInvokeTooLarge: a 16 MB Invoke gets 413 RequestTooLargeException
// in Lambda's JSON shape, from the AWS SDK (which does not send Expect)
// and from a client that asks "Expect: 100-continue" (curl), which gets
// no 100 first; before, it got 100 Continue, then 400 as text/plain.
func TestServeInvokeTooLarge(t *testing.T) {
	s := startServed(t, "")
	big := bytes.Repeat([]byte("7"), 16<<20)
	_, err := lambdaClient("http://"+s.admin).Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("albecho"), Payload: big})
	var tl *types.RequestTooLargeException
	if !errors.As(err, &tl) {
		t.Errorf("SDK: err = %v, want RequestTooLargeException", err)
	}
	head := "POST /2015-03-31/functions/albecho/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 16777216\r\n"
	for _, tt := range []struct {
		name, head string
		body       []byte
	}{
		{"no Expect", head + "\r\n", big},
		{"Expect", head + "Expect: 100-continue\r\n\r\n", nil},
	} {
		resp, continued, took := rawResponse(t, s.admin, tt.head, tt.body)
		if resp.StatusCode() != 413 || continued || string(resp.Header.Peek("X-Amzn-ErrorType")) != "RequestTooLargeException" ||
			!strings.HasPrefix(string(resp.Body()), `{"Type":"User","message":"Request must be smaller than 6291456 bytes`) || took > 3*time.Second {
			t.Errorf("%s: %d (100 Continue first: %v) %s %q after %s", tt.name, resp.StatusCode(), continued,
				resp.Header.Peek("X-Amzn-ErrorType"), resp.Body(), took)
		}
	}
}

// TestServeAdminHost: without credentials, a request for another host
// name (a DNS-rebinding page) cannot list the functions and their
// environment; with credentials, signatures for another service or region
// are refused.
func TestServeAdminHost(t *testing.T) {
	t.Run("no credentials", func(t *testing.T) {
		s := startServed(t, "")
		for _, tt := range []struct {
			host string
			want int
		}{
			{"attacker.example:" + s.admin[strings.LastIndexByte(s.admin, ':')+1:], 403},
			{"localhost", 200},
			{s.admin, 200},
		} {
			resp, _, _ := rawResponse(t, s.admin, "GET /2015-03-31/functions/ HTTP/1.1\r\nHost: "+tt.host+"\r\n\r\n", nil)
			if resp.StatusCode() != tt.want {
				t.Errorf("Host %s: %d %s, want %d", tt.host, resp.StatusCode(), resp.Body(), tt.want)
			}
			if tt.want == 403 && (string(resp.Header.Peek("X-Amzn-ErrorType")) != "AccessDeniedException" || bytes.Contains(resp.Body(), []byte("albecho"))) {
				t.Errorf("Host %s: %s %s", tt.host, resp.Header.Peek("X-Amzn-ErrorType"), resp.Body())
			}
		}
	})
	t.Run("credentials", func(t *testing.T) {
		s := startServed(t, fmt.Sprintf("  credentials: {access_key_id: %q, secret_access_key: %q}", testAccessKey, testSecretKey))
		client := lambda.New(lambda.Options{
			BaseEndpoint: aws.String("http://" + s.admin),
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
			Retryer:      aws.NopRetryer{},
		})
		in := &lambda.ListFunctionsInput{}
		if _, err := client.ListFunctions(context.Background(), in); err != nil {
			t.Fatalf("lambda, us-east-1: %v", err)
		}
		for name, opt := range map[string]func(*lambda.Options){
			"s3":        lambda.WithSigV4SigningName("s3"),
			"eu-west-1": lambda.WithSigV4SigningRegion("eu-west-1"),
		} {
			_, err := client.ListFunctions(context.Background(), in, opt)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
				t.Errorf("signed for %s: err = %v, want AccessDeniedException", name, err)
			}
		}
	})
}

// TestServeClientHangUp: a client that hangs up while the function runs is
// logged 460 with the function's status; the invocation ran to its end.
func TestServeClientHangUp(t *testing.T) {
	dir := t.TempDir()
	alog := filepath.Join(dir, "access.log")
	s := startServed(t, "", "-access-log", alog)
	if code, err := s.get("/warm"); err != nil || code != 200 {
		t.Fatalf("warm-up: %d %v", code, err)
	}
	c, err := net.Dial("tcp", s.listener)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /sleep?ms=600 HTTP/1.1\r\nHost: h\r\n\r\n")
	time.Sleep(200 * time.Millisecond)
	c.Close()
	var line string
	deadline := time.Now().Add(10 * time.Second)
	for line == "" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		b, _ := os.ReadFile(alog)
		for l := range strings.SplitSeq(string(b), "\n") {
			if strings.Contains(l, "/sleep?ms=600") {
				line = l
			}
		}
	}
	f := strings.Fields(line)
	if len(f) < 11 || f[8] != "460" || f[9] != "200" || f[11] != "0" {
		t.Fatalf("access-log line %q: want elb_status_code 460, target_status_code 200, sent_bytes 0", line)
	}
	if strings.Contains(s.log(), "Task timed out") {
		t.Errorf("the invocation was cut short:\n%s", s.log())
	}
}

// TestServeForwardFailureLogged: a function error, an invalid response
// and a timeout each print one line at the default level that says why,
// with the function's errorType and errorMessage when it has them.
func TestServeForwardFailureLogged(t *testing.T) {
	s := startServed(t, "")
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"/error", []string{"error_reason=LambdaUnhandled", "error_type=errorString", `error_message="albecho: asked to fail"`}},
		{"/invalid", []string{"error_reason=LambdaInvalidResponse", "statusCode"}},
		{"/sleep?ms=3000", []string{"error_reason=LambdaUnhandled", "error_type=Sandbox.Timedout", `error_message="`, "timed out after 1.00 seconds"}},
	} {
		before := strings.Count(s.log(), "forward failed")
		if code, err := s.get(tt.path); err != nil || code != 502 {
			t.Fatalf("%s: %d %v", tt.path, code, err)
		}
		var lines []string
		for l := range strings.SplitSeq(s.log(), "\n") {
			if strings.Contains(l, "forward failed") {
				lines = append(lines, l)
			}
		}
		if len(lines) != before+1 {
			t.Fatalf("%s: %d forward-failed lines, want one more than %d", tt.path, len(lines), before)
		}
		l := lines[len(lines)-1]
		t.Log(l)
		for _, w := range append([]string{"level=WARN", "listener=", "rule=0", "target_group=echo", "function=albecho", "status=502"}, tt.want...) {
			if !strings.Contains(l, w) {
				t.Errorf("%s: line %q lacks %q", tt.path, l, w)
			}
		}
	}
}
