package balancer

import (
	"bufio"
	"crypto/tls"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestAthenaRegex checks that the regex reads albedo's fields into the
// right columns, and that it refuses a line whose quoting is broken (so
// that the golden test's "every line parses" can fail).
func TestAthenaRegex(t *testing.T) {
	const https = `https 2026-05-01T12:00:00.123456Z app/golden/04f90c834d4b52ff 203.0.113.7:43210 - 0.000 0.001 0.000 502 - 87 116 "GET https://shop.example.com:443/ok?a=b HTTP/1.1" "curl/8.5.0" ECDHE-ECDSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/ok/0123456789abcdef "Root=1-1" "api.example.com" "session-reused" 12 2026-05-01T12:00:00.100000Z "forward" "-" "LambdaUnhandled" "-" "-" "-" "-" TID_1f`
	cols, ok := athenaParse(https)
	if !ok {
		t.Fatal("the HTTPS line does not parse")
	}
	for col, want := range map[string]string{
		"type": "https", "client_ip": "203.0.113.7", "client_port": "43210", "target_ip": "", "target_port": "",
		"target_processing_time": "0.001", "elb_status_code": "502", "target_status_code": "-",
		"request_verb": "GET", "request_url": "https://shop.example.com:443/ok?a=b", "request_proto": "HTTP/1.1",
		"ssl_cipher": "ECDHE-ECDSA-AES128-GCM-SHA256", "ssl_protocol": "TLSv1.2", "domain_name": "api.example.com",
		"chosen_cert_arn": "session-reused", "matched_rule_priority": "12", "lambda_error_reason": "LambdaUnhandled",
		"conn_trace_id": "TID_1f",
	} {
		if cols[col] != want {
			t.Errorf("%s = %q, want %q", col, cols[col], want)
		}
	}
	broken := strings.Replace(https, `"curl/8.5.0"`, `"curl "quoted" 8"`, 1)
	if _, ok := athenaParse(broken); ok {
		t.Error("a user agent with unescaped quotes parsed; the regex checks nothing")
	}
}

// FuzzAccessLogAthena: whatever request fasthttp accepts, its access-log
// line parses with Athena's regex.
func FuzzAccessLogAthena(f *testing.F) {
	f.Add("GET", "/a b?c=\"d\"", "h", "agent \"x\" \\ \x01", "Root=1-2", "redirect", "https://x/\"")
	f.Add("POST", "/", "", "", "", "", "")
	f.Add("M-1", "*", "[::1]:8080", "\xff\xfe", "\n", "fixed-response", "LambdaBadRequest")
	l := benchListener(f, Options{})
	f.Fuzz(func(t *testing.T, method, uri, host, ua, trace, action, reason string) {
		var req fasthttp.Request
		raw := method + " " + uri + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + ua + "\r\nX-Amzn-Trace-Id: " + trace + "\r\n\r\n"
		if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			return
		}
		ctx := &fasthttp.RequestCtx{}
		ctx.Init(&req, nil, nil)
		ctx.Response.Header.Set("Location", reason)
		e := logEntry{rule: 3, action: action, reason: reason, groupARN: "arn:x", start: time.Unix(1, 0)}
		line := string(appendLogLine(nil, "app/a/b", l, ctx, &e, time.Unix(2, 0)))
		if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
			t.Fatalf("not one line: %q", line)
		}
		if _, ok := athenaParse(strings.TrimSuffix(line, "\n")); !ok {
			t.Fatalf("Athena's regex does not parse %q", line)
		}
	})
}

// TestCipherNamesOpenSSL compares cipherName with the names OpenSSL gives
// the same suite ids, when an openssl binary is there.
func TestCipherNamesOpenSSL(t *testing.T) {
	out, err := exec.Command("openssl", "ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0").Output()
	if err != nil {
		t.Skipf("no usable openssl: %v", err)
	}
	names := map[uint16]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || !strings.HasPrefix(f[0], "0x") {
			continue
		}
		hi, lo, ok := strings.Cut(f[0], ",")
		a, err1 := strconv.ParseUint(strings.TrimPrefix(hi, "0x"), 16, 8)
		b, err2 := strconv.ParseUint(strings.TrimPrefix(lo, "0x"), 16, 8)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		names[uint16(a<<8|b)] = f[2]
	}
	checked := 0
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		want, ok := names[s.ID]
		if !ok {
			continue // this OpenSSL build dropped it (RC4, 3DES)
		}
		checked++
		if got := cipherName(s.ID); got != want {
			t.Errorf("%s: cipherName = %q, OpenSSL says %q", s.Name, got, want)
		}
	}
	if checked < 15 {
		t.Errorf("only %d suites compared", checked)
	}
}
