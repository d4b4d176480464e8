package lambdaadapter

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func TestAppendTrace(t *testing.T) {
	t.Parallel()
	const fresh = "1-5c34e93e-0123456789abcdef01234567"
	tests := []struct {
		name    string
		in      string
		has     bool
		hdrSize int
		want    string
	}{
		{"none", "", false, 100, "Root=" + fresh},
		{"empty", "  ", true, 100, "Root=" + fresh},
		{"root", "Root=1-67891233-abcdef012345678912345678", true, 100, "Self=" + fresh + ";Root=1-67891233-abcdef012345678912345678"},
		{"root and custom", "Root=1-67891233-abcdef012345678912345678;CalledFrom=app", true, 100, "Self=" + fresh + ";Root=1-67891233-abcdef012345678912345678;CalledFrom=app"},
		{"self first", "Self=1-1-1;Root=1-2-2", true, 100, "Self=" + fresh + ";Root=1-2-2"},
		{"self later, spaced", "Root=1-2-2; Self=old ;X=y", true, 100, "Root=1-2-2; Self=" + fresh + " ;X=y"},
		{"no root no self", "CalledFrom=app", true, 100, "Root=" + fresh + ";CalledFrom=app"},
		{"headers over 7 KB", "Root=1-67891233-abcdef012345678912345678", true, 7<<10 + 1, "Root=" + fresh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := testEncoder().appendTrace(nil, []byte(tt.in), tt.has, tt.hdrSize)
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestZeroEncoderTraceFormat(t *testing.T) {
	t.Parallel()
	var e Encoder
	re := regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`)
	a := string(e.appendTrace(nil, nil, false, 0))
	b := string(e.appendTrace(nil, nil, false, 0))
	if !re.MatchString(a) || !re.MatchString(b) || a == b {
		t.Errorf("trace ids %q, %q", a, b)
	}
	sec, now := a[7:15], time.Now().Unix()
	if v, err := strconv.ParseUint(sec, 16, 32); err != nil || int64(v) < now-3600 || int64(v) > now+3600 {
		t.Errorf("trace epoch %q not close to now", sec)
	}
}

func TestIsTextType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ct   string
		want bool
	}{
		{"text/plain", true},
		{"text/html; charset=utf-8", true},
		{"TEXT/CSV", true},
		{"application/json", true},
		{" application/json ; charset=utf-8", true},
		{"application/javascript", true},
		{"application/xml", true},
		{"application/x-www-form-urlencoded", false},
		{"multipart/form-data; boundary=x", false},
		{"application/octet-stream", false},
		{"application/vnd.api+json", false},
		{"application/problem+json", false},
		{"text/", false},
		{"", false},
		{"application/jsonx", false},
	}
	for _, tt := range tests {
		if got := isTextType([]byte(tt.ct)); got != tt.want {
			t.Errorf("isTextType(%q) = %v, want %v", tt.ct, got, tt.want)
		}
	}
}

func TestSplitRequestURI(t *testing.T) {
	t.Parallel()
	tests := []struct{ uri, path, query string }{
		{"/", "/", ""},
		{"/a?b=c", "/a", "b=c"},
		{"/a?b=c#f", "/a", "b=c"},
		{"/a#f?x", "/a", ""},
		{"/a%3Fb?c", "/a%3Fb", "c"},
		{"/a??b", "/a", "?b"},
		{"http://h/p?q", "/p", "q"},
		{"https://h?q", "/", "q"},
		{"http://h", "/", ""},
		{"*", "*", ""},
		{"/a?", "/a", ""},
		{"?x", "/", "x"},
		{"HTTPS://host", "/", ""},
		// Any scheme loses its authority: the balancer's path rules match
		// this same path, so "GET ftp://h/admin" cannot slip past a rule on
		// /admin* and still reach the function with path "/admin".
		{"ftp://h/admin?x=1", "/admin", "x=1"},
		{"x://h/admin", "/admin", ""},
		{"ws://h", "/", ""},
		{"a/b://h/p", "a/b://h/p", ""},
	}
	for _, tt := range tests {
		p, q := SplitRequestURI([]byte(tt.uri))
		if string(p) != tt.path || string(q) != tt.query {
			t.Errorf("SplitRequestURI(%q) = %q, %q; want %q, %q", tt.uri, p, q, tt.path, tt.query)
		}
	}
}

// TestAppendJSONStringMatchesEncodingJSON: for every string, the output
// parses back (with encoding/json) to what encoding/json itself gives.
func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	inputs := []string{"", "plain", `q"b\s/`, "\x00\x01\x1f\x7f", "\b\f\n\r\t", "λ€😀", "\xff\xfe", "a\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\u2028\u2029", "<>&"}
	for _, in := range inputs {
		got := appendJSONString(nil, in)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: invalid JSON %s: %v", in, got, err)
			continue
		}
		if want := validString([]byte(in)); back != want {
			t.Errorf("%q: round trip %q, want %q", in, back, want)
		}
		if bytes.Contains(got, []byte(`\/`)) {
			t.Errorf("%q: '/' escaped", in)
		}
	}
}

// TestHealthCheckEvent compares with the documented event ("Enable health
// checks", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html#enable-health-checks-lambda).
func TestHealthCheckEvent(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:elasticloadbalancing:region:123456789012:targetgroup/my-target-group/6d0ecf831eec9f09"
	doc := `{
    "requestContext": {"elb": {"targetGroupArn": "` + arn + `"}},
    "httpMethod": "GET", "path": "/", "queryStringParameters": {},
    "headers": {"user-agent": "ELB-HealthChecker/2.0"},
    "body": "", "isBase64Encoded": false}`
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(doc)); err != nil {
		t.Fatal(err)
	}
	if got := AppendHealthCheckEvent(nil, arn, "", false); !bytes.Equal(got, compact.Bytes()) {
		t.Errorf("single-value:\n got %s\nwant %s", got, compact.Bytes())
	}
	for _, multi := range []bool{false, true} {
		name := "healthcheck-single-value"
		if multi {
			name = "healthcheck-multi-value"
		}
		got := append(AppendHealthCheckEvent(nil, testARN, "/health", multi), '\n')
		goldenCompare(t, eventsDir+"/"+name+".golden.json", got)
	}
}

// TestBuiltRequest covers a request made in code (no raw header block):
// headers come from fasthttp's All().
func TestBuiltRequest(t *testing.T) {
	t.Parallel()
	req := new(fasthttp.Request)
	req.Header.SetMethod("POST")
	req.SetRequestURI("/built?a=1")
	req.Header.SetHost("example.com")
	req.Header.SetContentType("application/json")
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	req.Header.Set("X-Custom", "v")
	req.SetBodyString(`{"k":1}`)
	c := &Conn{ClientIP: netip.MustParseAddr("::ffff:192.0.2.1"), ListenerPort: 8080, TargetGroupARN: testARN}
	ev := testEncoder().AppendEvent(nil, req, c)
	checkEventAgainstStruct(t, ev, req, c)
	for _, want := range []string{`"x-forwarded-for":"10.0.0.1, 192.0.2.1"`, `"x-custom":"v"`, `"x-forwarded-port":"8080"`, `"x-forwarded-proto":"http"`, `"body":"{\"k\":1}"`} {
		if !bytes.Contains(ev, []byte(want)) {
			t.Errorf("event lacks %s:\n%s", want, ev)
		}
	}
}

func TestAppendEventTrace(t *testing.T) {
	t.Parallel()
	req := readRequest(t, []byte("GET / HTTP/1.1\r\nHost: h\r\nX-Amzn-Trace-Id: Root=1-2-3\r\n\r\n"))
	ev, tr := testEncoder().AppendEventTrace([]byte("prefix"), []byte("t:"), req, &Conn{})
	if want := "t:Self=1-5c34e93e-0123456789abcdef01234567;Root=1-2-3"; string(tr) != want {
		t.Errorf("trace %q, want %q", tr, want)
	}
	if !bytes.HasPrefix(ev, []byte("prefix{")) || !bytes.Contains(ev, tr[2:]) {
		t.Errorf("event %s", ev)
	}
}

func TestLargeHeadersRewriteTrace(t *testing.T) {
	t.Parallel()
	raw := "GET / HTTP/1.1\r\nHost: h\r\nX-Amzn-Trace-Id: Root=1-2-3\r\nX-Pad: " + strings.Repeat("p", 7<<10) + "\r\n\r\n"
	req := new(fasthttp.Request)
	req.Header.SetNoDefaultContentType(true)
	if err := req.Header.Read(bufioReader(raw)); err != nil {
		t.Fatal(err)
	}
	_, tr := testEncoder().AppendEventTrace(nil, nil, req, &Conn{})
	if want := "Root=1-5c34e93e-0123456789abcdef01234567"; string(tr) != want {
		t.Errorf("trace %q, want %q", tr, want)
	}
}

func TestManyHeaders(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("GET /?")
	for i := range 200 {
		b.WriteString("k" + string(rune('a'+i%26)) + "=" + strings.Repeat("v", i%3) + "&")
	}
	b.WriteString(" HTTP/1.1\r\nHost: h\r\n")
	for i := range 200 {
		b.WriteString("X-H" + string(rune('a'+i%26)) + ": " + strings.Repeat("x", i%5) + "\r\n")
	}
	b.WriteString("\r\n")
	for _, multi := range []bool{false, true} {
		req := new(fasthttp.Request)
		if err := req.Header.Read(bufioReader(b.String())); err != nil {
			t.Fatal(err)
		}
		c := &Conn{MultiValue: multi, ClientIP: netip.MustParseAddr("192.0.2.1")}
		checkEventAgainstStruct(t, testEncoder().AppendEvent(nil, req, c), req, c)
	}
}
