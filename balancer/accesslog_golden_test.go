package balancer

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/lambdaadapter"
	"github.com/albedo-lb/albedo/targetgroup"
)

// athenaALB is the input.regex of the alb_access_logs table in AWS's
// Athena guide ("Create the table for ALB access logs", the version with
// the classification, classification_reason and conn_trace_id columns),
// the SQL string's \" written as ". Hive's RegexSerDe matches the whole
// line, hence ^ and $.
var athenaALB = regexp.MustCompile(`^([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) ([-.0-9]*) (|[-0-9]*) (-|[-0-9]*) ([-0-9]*) ([-0-9]*) "([^ ]*) (.*) (- |[^ ]*)" "([^"]*)" ([A-Z0-9-_]+) ([A-Za-z0-9.-]*) ([^ ]*) "([^"]*)" "([^"]*)" "([^"]*)" ([-.0-9]*) ([^ ]*) "([^"]*)" "([^"]*)" "([^ ]*)" "([^\s]+?)" "([^\s]+)" "([^ ]*)" "([^ ]*)" ?([^ ]*)?( .*)?$`)

// athenaColumns are the table's columns, in the regex's group order.
var athenaColumns = []string{"type", "time", "elb", "client_ip", "client_port", "target_ip", "target_port",
	"request_processing_time", "target_processing_time", "response_processing_time", "elb_status_code",
	"target_status_code", "received_bytes", "sent_bytes", "request_verb", "request_url", "request_proto",
	"user_agent", "ssl_cipher", "ssl_protocol", "target_group_arn", "trace_id", "domain_name", "chosen_cert_arn",
	"matched_rule_priority", "request_creation_time", "actions_executed", "redirect_url", "lambda_error_reason",
	"target_port_list", "target_status_code_list", "classification", "classification_reason", "conn_trace_id"}

// athenaParse returns the columns Athena reads from line, or false when
// the regex does not match (Athena would return a row of NULLs).
func athenaParse(line string) (map[string]string, bool) {
	m := athenaALB.FindStringSubmatch(line)
	if m == nil {
		return nil, false
	}
	out := make(map[string]string, len(athenaColumns))
	for i, c := range athenaColumns {
		out[c] = m[i+1]
	}
	return out, true
}

// TestAccessLogGolden pins whole access-log lines, the clock injected and
// the client's address fixed (in-memory connections): success, each
// failure reason, redirect, fixed response, the default rule, requests
// refused before any rule, and HTTPS with and without a matching SNI.
// Every line must parse with Athena's regex. Regenerate with
// go test ./balancer -run AccessLogGolden -update.
func TestAccessLogGolden(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)
	errs := map[string]error{
		"/denied":         targetgroup.ErrAccessDenied,
		"/not-found":      targetgroup.ErrFunctionNotFound,
		"/throttled":      targetgroup.ErrThrottled,
		"/unhandled":      &targetgroup.FunctionError{Function: "fn", Type: "Error", Message: "boom"},
		"/invalid":        &lambdaadapter.ResponseError{Reason: lambdaadapter.ReasonInvalidResponse, Detail: "statusCode missing"},
		"/response-large": &lambdaadapter.ResponseError{Reason: lambdaadapter.ReasonResponseTooLarge, Detail: "over 1 MB"},
		"/timeout":        context.DeadlineExceeded,
		"/connection":     targetgroup.ErrConnection,
		"/service":        targetgroup.ErrServiceException,
		"/no-targets":     targetgroup.ErrNoTargets,
		"/payload-large":  targetgroup.ErrRequestTooLarge,
		"/unexpected":     errors.New("something albedo did not expect"),
	}
	groups := map[string]Forwarder{}
	tgs := []config.TargetGroup{{Name: "ok", ARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/ok/0123456789abcdef"}}
	var rules []config.Rule
	prio := 1
	for _, path := range sortedKeys(errs) {
		name := strings.TrimPrefix(path, "/")
		groups[name] = &fakeForwarder{name: name, err: errs[path]}
		tgs = append(tgs, config.TargetGroup{Name: name, ARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/" + name + "/00000000000000ff"})
		rules = append(rules, config.Rule{Priority: prio, Conditions: []config.Condition{{PathPattern: []string{path}}}, Action: forwardTo(name)})
		prio++
	}
	groups["ok"] = &fakeForwarder{name: "ok", body: "hello"}
	rules = append(rules,
		config.Rule{Priority: 100, Conditions: []config.Condition{{PathPattern: []string{"/old/*"}}},
			Action: &config.Action{Redirect: &config.Redirect{Protocol: "HTTPS", Port: "443", Path: "/new/#{path}", StatusCode: "HTTP_301"}}},
		config.Rule{Priority: 101, Conditions: []config.Condition{{PathPattern: []string{"/fixed"}}},
			Action: &config.Action{FixedResponse: &config.FixedResponse{StatusCode: 404, ContentType: "text/plain", MessageBody: "nothing here"}}},
		config.Rule{Priority: 102, Conditions: []config.Condition{{PathPattern: []string{"/weight-0"}}},
			Action: &config.Action{Forward: &config.Forward{TargetGroups: []config.WeightedGroup{{Name: "ok", Weight: ptr(0)}}}}},
		config.Rule{Priority: 103, Conditions: []config.Condition{{PathPattern: []string{"/ok"}}}, Action: forwardTo("ok")},
	)
	tlsDir := filepath.Join("..", "testdata", "config", "tls")
	cfg := &config.Config{
		Region: "us-east-1", AccountID: "123456789012", LoadBalancer: "golden",
		TargetGroups: tgs,
		Listeners: []config.Listener{
			{Port: 80, Protocol: "HTTP", DefaultAction: forwardTo("ok"), Rules: rules},
			{Port: 443, Protocol: "HTTPS", DefaultAction: forwardTo("ok"), Certificates: []config.Certificate{
				{CertificateFile: filepath.Join(tlsDir, "site.pem"), PrivateKeyFile: filepath.Join(tlsDir, "site-key.pem")},
				{CertificateFile: filepath.Join(tlsDir, "api.pem"), PrivateKeyFile: filepath.Join(tlsDir, "api-key.pem")},
			}},
		},
	}
	plain, secure := fasthttputil.NewInmemoryListener(), fasthttputil.NewInmemoryListener()
	var out syncBuffer
	b, err := New(cfg, groups, Options{AccessLog: &out, Now: func() time.Time { return now }, Listeners: []net.Listener{plain, secure}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	client := &net.TCPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 43210}
	exchange := func(ln *fasthttputil.InmemoryListener, sni string, raw string) {
		t.Helper()
		c, err := ln.DialWithLocalAddr(client)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if sni != "" {
			c = tls.Client(c, &tls.Config{
				ServerName: sni, InsecureSkipVerify: true, // fixed test certificates
				// One suite, so the line does not depend on the CPU's AES support.
				MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			})
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, c)
	}
	get := func(path string, extra ...string) string {
		return "GET " + path + " HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: curl/8.5.0\r\n" + strings.Join(extra, "") + "Connection: close\r\n\r\n"
	}
	exchange(plain, "", get("/ok?a=1", "X-Amzn-Trace-Id: Root=1-67891233-abcdef012345678912345678\r\n"))
	for _, path := range sortedKeys(errs) {
		exchange(plain, "", get(path))
	}
	exchange(plain, "", get("/old/page?x=1"))
	exchange(plain, "", get("/fixed"))
	exchange(plain, "", get("/weight-0"))
	exchange(plain, "", get("/anything-else"))
	exchange(plain, "", get("/ok", "Connection: Upgrade\r\nUpgrade: websocket\r\n"))
	exchange(plain, "", get("/ok/\xff"))
	exchange(plain, "", "POST /ok HTTP/1.1\r\nHost: shop.example.com\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
	exchange(plain, "", "TRACE / HTTP/1.1\r\nHost: shop.example.com\r\nConnection: close\r\n\r\n")
	exchange(plain, "", "GET /ok HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: a \"quoted\" agent\r\nConnection: close\r\n\r\n")
	exchange(secure, "api.example.com", get("/ok"))
	exchange(secure, "www.example.com", get("/ok"))
	exchange(secure, "unknown.test", get("/ok"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// In-memory listeners refuse a second Close with an error of their own.
	if err := b.Shutdown(ctx); err != nil && !strings.Contains(err.Error(), "already closed") {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), " TID_0\n") {
		t.Errorf("a line without its connection's id (TID_0):\n%s", out.String())
	}
	got := renumberConns(out.String())
	for i, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if _, ok := athenaParse(line); !ok {
			t.Errorf("line %d does not parse with Athena's regex:\n%s", i+1, line)
		}
	}
	golden := filepath.Join("..", "testdata", "balancer", "accesslog.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("access log differs from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

// renumberConns rewrites each conn_trace_id to TID_<n>, n counting the
// distinct connections in order, since connection numbers are the
// process's (other tests' connections come first).
func renumberConns(log string) string {
	seen := map[string]string{}
	return tidRE.ReplaceAllStringFunc(log, func(tid string) string {
		if _, ok := seen[tid]; !ok {
			seen[tid] = "TID_" + strconv.Itoa(len(seen)+1)
		}
		return seen[tid]
	})
}

var tidRE = regexp.MustCompile(`(?m)TID_[0-9a-f]+$`)

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
