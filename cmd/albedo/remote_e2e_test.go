package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor/exectest"
)

// The "remote" Lambda service of these tests is a second albedo, a real
// `albedo serve` child process serving the Invoke API alone with admin
// credentials: the local albedo's AWS SDK client signs with SigV4 and the
// child verifies every signature. Its region and account differ from the
// local albedo's, as an AWS function's would.
const remoteChildConfig = `region: eu-west-1
account_id: "111122223333"
state_dir: {{state}}
admin:
  address: {{admin}}
  credentials: {access_key_id: ` + testAccessKey + `, secret_access_key: ` + testSecretKey + `}
functions:
  - name: albecho
    runtime: provided.al2023
    code: {{albecho}}
    policy:
      - {sid: elb-pol, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction", source_arn: "{{polarn}}", source_account: "123456789012"}
  - name: one
    runtime: provided.al2023
    code: {{albecho}}
    reserved_concurrency: 1
  - name: nopolicy
    runtime: provided.al2023
    code: {{albecho}}
`

// remoteLocalConfig is the albedo under test: one target group per kind
// of answer, chosen by the x-to header; /split* is a weighted, sticky
// forward between a local group and a remote one.
const remoteLocalConfig = `x-alb: &alb
  - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
x-creds: &creds {access_key_id: ` + testAccessKey + `, secret_access_key: ` + testSecretKey + `}
listeners:
  - port: 1
    default_action:
      fixed_response: {status_code: 404, content_type: text/plain, message_body: "no route"}
    rules:
      - {priority: 1, conditions: [{http_header: {name: x-to, values: [ok]}}], action: {forward: {target_group: ok}}}
      - {priority: 2, conditions: [{http_header: {name: x-to, values: [one]}}], action: {forward: {target_group: one}}}
      - {priority: 3, conditions: [{http_header: {name: x-to, values: [missing]}}], action: {forward: {target_group: missing}}}
      - {priority: 4, conditions: [{http_header: {name: x-to, values: [badkey]}}], action: {forward: {target_group: badkey}}}
      - {priority: 5, conditions: [{http_header: {name: x-to, values: [refused]}}], action: {forward: {target_group: refused}}}
      - {priority: 6, conditions: [{http_header: {name: x-to, values: [hang]}}], action: {forward: {target_group: hang}}}
      - {priority: 7, conditions: [{http_header: {name: x-to, values: [broken]}}], action: {forward: {target_group: broken}}}
      - {priority: 8, conditions: [{http_header: {name: x-to, values: [arn]}}], action: {forward: {target_group: arn}}}
      - {priority: 9, conditions: [{http_header: {name: x-to, values: [pol]}}], action: {forward: {target_group: pol}}}
      - priority: 20
        conditions: [{path_pattern: ["/split*"]}]
        action:
          forward:
            target_groups: [{name: local, weight: 1}, {name: ok, weight: 3}]
            stickiness: {enabled: true, duration: 600}
target_groups:
  - {name: ok, targets: [remote-ok]}
  - {name: one, targets: [remote-one]}
  - {name: missing, targets: [remote-missing]}
  - {name: badkey, targets: [remote-badkey]}
  - {name: refused, targets: [remote-refused]}
  - {name: hang, targets: [remote-hang]}
  - {name: broken, targets: [remote-broken]}
  - {name: arn, targets: ["arn:aws:lambda:eu-west-1:111122223333:function:albecho"]}
  - {name: pol, targets: [remote-pol]}
  - {name: local, targets: [local]}
functions:
  - name: remote-ok
    endpoint: {{remote}}
    function_name: albecho
    credentials: *creds
    region: eu-west-1
    policy: *alb
    async: {on_success: "file://{{dest}}"}
  - {name: remote-one, endpoint: "{{remote}}", function_name: one, credentials: *creds, region: eu-west-1, policy: *alb}
  - {name: remote-missing, endpoint: "{{remote}}", function_name: nope, credentials: *creds, region: eu-west-1, policy: *alb}
  - name: remote-badkey
    endpoint: {{remote}}
    function_name: albecho
    credentials: {access_key_id: ` + testAccessKey + `, secret_access_key: wrong}
    region: eu-west-1
    policy: *alb
  - {name: remote-refused, endpoint: "http://{{refused}}", policy: *alb}
  - {name: remote-hang, endpoint: "http://{{hang}}", timeout: 1, policy: *alb}
  - {name: remote-broken, endpoint: "{{broken}}", policy: *alb}
  - {name: remote-arn, arn: "arn:aws:lambda:eu-west-1:111122223333:function:albecho", policy: *alb}
  - {name: remote-pol, endpoint: "{{remote}}", function_name: albecho, credentials: *creds, region: eu-west-1, policy_source: aws}
  - {name: local, runtime: builtin, handler: noop, policy: *alb}
`

// startRemoteChild starts the remote albedo and returns its admin URL.
func startRemoteChild(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	admin := freeLoopbackAddr(t)
	text := strings.NewReplacer(
		"{{state}}", filepath.Join(dir, "state"),
		"{{admin}}", admin,
		"{{albecho}}", exectest.Build(t, "albecho"),
		"{{polarn}}", config.TargetGroupARN("us-east-1", "123456789012", "albedo", "pol"),
	).Replace(remoteChildConfig)
	path := filepath.Join(dir, "albedo.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "albedo.log")
	c := startAlbedoChild(t, path, logPath)
	c.waitListening(t, admin, logPath)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("remote albedo log:\n%s", logTail(logPath))
		}
	})
	return "http://" + admin
}

// hangingListener accepts connections and never answers.
func hangingListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// remoteEnv points the AWS SDK's default configuration (arn functions) at
// the remote albedo, with its credentials and no file or instance lookup:
// no test reaches the internet.
func remoteEnv(t *testing.T, remoteURL string) {
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", remoteURL)
	t.Setenv("AWS_ACCESS_KEY_ID", testAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func remoteLocalYAML(t *testing.T, remoteURL, dest string) string {
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Amzn-ErrorType", "ServiceException")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"Type":"Service","Message":"the service is broken"}`))
	}))
	t.Cleanup(broken.Close)
	return strings.NewReplacer(
		"{{remote}}", remoteURL,
		"{{refused}}", freeLoopbackAddr(t),
		"{{hang}}", hangingListener(t),
		"{{broken}}", broken.URL,
		"{{dest}}", dest,
	).Replace(remoteLocalConfig)
}

func TestE2ERemote(t *testing.T) {
	remoteURL := startRemoteChild(t)
	remoteEnv(t, remoteURL)
	dest := filepath.Join(t.TempDir(), "success.jsonl")
	cfg, err := config.Parse([]byte(remoteLocalYAML(t, remoteURL, dest)), filepath.Join(t.TempDir(), "albedo.yaml"))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	// Starting at all is the "allowed" half of policy_source: aws: the
	// remote's own policy for albecho lets group pol invoke it.
	e := startE2E(t, cfg)

	t.Run("answers", func(t *testing.T) {
		tests := []struct {
			name   string
			to     string
			uri    string
			want   int
			reason string // error_reason in the access log
			within time.Duration
		}{
			{name: "success", to: "ok", uri: "/case-ok", want: 200},
			{name: "arn function (default credential chain)", to: "arn", uri: "/case-arn", want: 200},
			{name: "policy_source aws", to: "pol", uri: "/case-pol", want: 200},
			{name: "function status", to: "ok", uri: "/case-status", want: 200},
			{name: "function error", to: "ok", uri: "/error", want: 502, reason: "LambdaUnhandled"},
			{name: "not found", to: "missing", uri: "/case-missing", want: 502, reason: "LambdaResourceNotFound"},
			{name: "access denied (wrong secret)", to: "badkey", uri: "/case-badkey", want: 502, reason: "LambdaAccessDenied"},
			{name: "connection refused", to: "refused", uri: "/case-refused", want: 502, reason: "LambdaConnectionError"},
			{name: "service exception", to: "broken", uri: "/case-broken", want: 502, reason: "LambdaServiceException"},
			{name: "hanging endpoint", to: "hang", uri: "/case-hang", want: 504, reason: "LambdaConnectionTimeout", within: 3 * time.Second},
		}
		var logged [][2]string // (uri, reason) the access log must show
		for _, tt := range tests {
			start := time.Now()
			code, h, body := e.do("GET", tt.uri, nil, "x-to", tt.to)
			if code != tt.want {
				t.Errorf("%s: status %d, want %d: %.300s", tt.name, code, tt.want, body)
				continue
			}
			if tt.within > 0 && time.Since(start) > tt.within {
				t.Errorf("%s: answered after %s, want within %s", tt.name, time.Since(start), tt.within)
			}
			if code == 200 && (!bytes.Contains(body, []byte(`"path":"`+tt.uri+`"`)) || len(h["X-Albecho"]) == 0) {
				t.Errorf("%s: not the remote albecho's answer: %v %.300s", tt.name, h, body)
			}
			if tt.reason != "" {
				logged = append(logged, [2]string{tt.uri, `"` + tt.reason + `"`})
			}
		}
		for _, l := range logged {
			waitLogLine(t, e, l[0], l[1])
		}
	})

	t.Run("throttle", func(t *testing.T) {
		// The remote function has reserved concurrency 1: of 6 concurrent
		// slow calls, one runs and the others are throttled by the remote.
		codes := concurrentGets(t, e.base+"/sleep?ms=500", "one", 6)
		n502 := 0
		for _, c := range codes {
			if c == 502 {
				n502++
			}
		}
		if n502 == 0 || n502 == len(codes) {
			t.Fatalf("statuses %v: want some 200 and some 502", codes)
		}
		waitLogLine(t, e, "/sleep", `"LambdaThrottling"`)
	})

	t.Run("weighted split local 1 : remote 3", func(t *testing.T) {
		const n = 200
		remote := 0
		for range n {
			code, _, body := e.do("GET", "/split", nil)
			switch {
			case code == 200 && string(body) == "ok":
			case code == 200 && bytes.Contains(body, []byte(`"path":"/split"`)):
				remote++
			default:
				t.Fatalf("status %d: %.200s", code, body)
			}
		}
		// Binomial(200, 3/4): mean 150, sd 6.1; 5 sd either side.
		if remote < 120 || remote > 180 {
			t.Errorf("%d of %d requests went to the remote group, want about 150", remote, n)
		}
	})

	t.Run("stickiness across local and remote", func(t *testing.T) {
		seen := map[bool]bool{}
		for i := 0; i < 40 && len(seen) < 2; i++ {
			code, h, body := e.do("GET", "/split", nil)
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			isLocal := string(body) == "ok"
			if seen[isLocal] {
				continue
			}
			seen[isLocal] = true
			cookie := stickyCookie(h)
			if cookie == "" {
				t.Fatalf("no AWSALBTG cookie in %v", h)
			}
			for range 20 {
				_, _, body := e.do("GET", "/split", nil, "Cookie", cookie)
				if (string(body) == "ok") != isLocal {
					t.Fatalf("sticky client (local %t) moved to the other group", isLocal)
				}
			}
		}
		if len(seen) < 2 {
			t.Fatal("40 requests never reached both groups")
		}
	})

	t.Run("invoke API", func(t *testing.T) {
		client := lambdaClient(e.admin)
		ctx := context.Background()
		list, err := client.ListFunctions(ctx, &lambda.ListFunctionsInput{})
		if err != nil {
			t.Fatal(err)
		}
		arns := map[string]string{}
		for _, f := range list.Functions {
			arns[aws.ToString(f.FunctionName)] = aws.ToString(f.FunctionArn)
		}
		remoteARN := "arn:aws:lambda:eu-west-1:111122223333:function:albecho"
		if arns["remote-arn"] != remoteARN || arns["remote-ok"] == "" || arns["local"] == "" {
			t.Errorf("ListFunctions: %v", arns)
		}
		for _, name := range []string{"remote-ok", remoteARN} {
			out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"path":"/via-sdk","httpMethod":"GET"}`)})
			if err != nil {
				t.Fatalf("Invoke %s: %v", name, err)
			}
			if out.FunctionError != nil || !bytes.Contains(out.Payload, []byte(`\"path\":\"/via-sdk\"`)) {
				t.Errorf("Invoke %s: %v %s", name, aws.ToString(out.FunctionError), out.Payload)
			}
		}
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("remote-ok"), Payload: []byte(`{"path":"/error"}`)})
		if err != nil || aws.ToString(out.FunctionError) != "Unhandled" {
			t.Errorf("function error through the Invoke API: %v, %v", err, out)
		}
		_, err = client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("remote-missing")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("remote not found through the Invoke API: %v", err)
		}
		// An Event invocation is queued locally and delivered to the
		// remote function; its answer reaches the on_success destination.
		if _, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("remote-ok"), InvocationType: types.InvocationTypeEvent,
			Payload: []byte(`{"path":"/async-remote"}`)}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			b, _ := os.ReadFile(dest)
			if bytes.Contains(b, []byte("/async-remote")) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("on_success destination never got the remote answer: %s", b)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestE2ERemotePolicyRefused: with policy_source: aws, a target the
// function's own policy does not allow is refused at start and by
// validate, with AWS's message at the target's position.
func TestE2ERemotePolicyRefused(t *testing.T) {
	remoteURL := startRemoteChild(t)
	tests := []struct {
		name, function, group string
	}{
		{"no policy", "nopolicy", "pol"},
		{"policy for another group", "albecho", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := `listeners:
  - port: 1
    default_action: {forward: {target_group: ` + tt.group + `}}
target_groups:
  - name: ` + tt.group + `
    targets: [fn]
functions:
  - name: fn
    endpoint: ` + remoteURL + `
    function_name: ` + tt.function + `
    credentials: {access_key_id: ` + testAccessKey + `, secret_access_key: ` + testSecretKey + `}
    region: eu-west-1
    policy_source: aws
`
			path := filepath.Join(t.TempDir(), "albedo.yaml")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			want := path + ":6:15: target_groups[0].targets[0]: elasticloadbalancing principal does not have permission to invoke " +
				"arn:aws:lambda:us-east-1:123456789012:function:fn from target group " + config.TargetGroupARN("us-east-1", "123456789012", "albedo", tt.group) +
				"; the function's policy (policy_source: aws) must allow it: aws lambda add-permission --endpoint-url " + remoteURL + " --function-name " + tt.function

			var stdout, stderr bytes.Buffer
			if code := runValidate([]string{path}, &stdout, &stderr); code != 2 || !strings.HasPrefix(stderr.String(), want) {
				t.Errorf("validate: exit %d, stderr\n%s\nwant exit 2 and\n%s", code, stderr.String(), want)
			}

			cfg, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Listeners[0].Port, cfg.Listeners[0].Address = 0, "127.0.0.1"
			cfg.Admin.Address, cfg.StateDir = "127.0.0.1:0", t.TempDir()
			s, err := start(context.Background(), cfg, slog.New(slog.DiscardHandler), &stderr, nil)
			if err == nil {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				s.shutdown(sctx)
				t.Fatal("serve started; want the config refused")
			}
			if !errors.Is(err, config.ErrInvalid) || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("start: %v\nwant ErrInvalid and %s", err, want)
			}
		})
	}
}

// waitLogLine waits (the access log is flushed every second) for a line
// holding both parts.
func waitLogLine(t *testing.T, e *e2e, a, b string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range strings.Split(e.log.String(), "\n") {
			if strings.Contains(line, a) && strings.Contains(line, b) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("no access-log line with %s and %s", a, b)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// concurrentGets sends n GETs at once with x-to: to and returns their
// statuses.
func concurrentGets(t *testing.T, url, to string, n int) []int {
	t.Helper()
	codes := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	c := &fasthttp.Client{ReadTimeout: 30 * time.Second}
	for i := range n {
		wg.Go(func() {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(url)
			req.Header.Set("x-to", to)
			errs[i] = c.Do(req, resp)
			codes[i] = resp.StatusCode()
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return codes
}

// stickyCookie is the AWSALBTG name=value of a response's Set-Cookie.
func stickyCookie(h http1Header) string {
	for _, v := range h["Set-Cookie"] {
		if strings.HasPrefix(v, "AWSALBTG=") {
			nv, _, _ := strings.Cut(v, ";")
			return nv
		}
	}
	return ""
}
