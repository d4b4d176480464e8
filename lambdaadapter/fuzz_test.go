package lambdaadapter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// FuzzEncode: any request fasthttp accepts gives a valid event that
// unmarshals into events.ALBTargetGroupRequest with the expected values.
func FuzzEncode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(eventsDir, "*.http"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		c, raw := parseCase(f, data)
		f.Add(raw, c.MultiValue)
	}
	big := "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: " +
		"1048577\r\n\r\n" + strings.Repeat("x", MaxRequestBodySize+1)
	f.Add([]byte(big), false)
	f.Add([]byte("GET /\xff?\xfe=\x00 HTTP/1.1\r\nHost: \xc3\r\nX: a\r\n b\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, raw []byte, multi bool) {
		req := new(fasthttp.Request)
		if err := req.Read(bufio.NewReader(bytes.NewReader(raw))); err != nil {
			return
		}
		c := &Conn{MultiValue: multi, ListenerPort: 80, Scheme: "http", TargetGroupARN: "arn:\x00\"x\xff"}
		c.ClientIP, c.ClientPort = testClientIP, 1234
		ev := testEncoder().AppendEvent(nil, req, c)
		checkEventAgainstStruct(t, ev, req, c)
	})
}

// FuzzDecode is differential: DecodeResponse must accept exactly what
// referenceDecode (encoding/json) accepts, and then give the same status,
// headers (in both modes), body and base64 flag. Whatever it accepts, the
// header block it writes has no bare CR or LF and no NUL.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(responsesDir, "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, strings.HasPrefix(filepath.Base(file), "mv-"))
	}
	for _, tt := range decodeCases {
		f.Add([]byte(tt.payload), tt.multi)
	}
	f.Fuzz(func(t *testing.T, payload []byte, multi bool) {
		checkDecode(t, payload, multi)
	})
}

// decodeCases are inputs that once set DecodeResponse and the reference
// apart, or nearly: seeds of FuzzDecode and cases of TestDecodeDifferential.
var decodeCases = []struct {
	name    string
	payload string
	multi   bool
}{
	{"lone high surrogate then LF in header value", `{"statusCode":200,"headers":{"a":"\ud800\u000a"}}`, false},
	{"surrogate pair in body", `{"statusCode":200,"body":"\ud83d\ude00"}`, false},
	{"lone low surrogate in body", `{"statusCode":200,"body":"\udc00x"}`, false},
	{"high surrogate twice in header value", `{"statusCode":200,"multiValueHeaders":{"a":["\ud800\ud800"]}}`, true},
	{"high surrogate before a bad escape", `{"statusCode":200,"body":"\ud800\u12G4"}`, false},
	{"high surrogate at the end of a string", `{"statusCode":200,"body":"\ud800"}`, false},
	{"surrogate pair in a key", `{"statusCode":200,"x\ud83d\ude00":1}`, false},
}

func TestDecodeDifferential(t *testing.T) {
	t.Parallel()
	for _, tt := range decodeCases {
		t.Run(tt.name, func(t *testing.T) {
			checkDecode(t, []byte(tt.payload), tt.multi)
		})
	}
}

// checkDecode compares DecodeResponse with referenceDecode on one payload.
func checkDecode(t *testing.T, payload []byte, multi bool) {
	t.Helper()
	want, ok, tooLarge := referenceDecode(payload, multi)
	var resp fasthttp.Response
	err := DecodeResponse(payload, multi, &resp)
	if (err == nil) != ok {
		t.Fatalf("multi=%v %q: DecodeResponse error %v, reference accepts: %v", multi, payload, err, ok)
	}
	if err != nil {
		var re *ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("error %v is not a *ResponseError", err)
		}
		if (re.Reason == ReasonResponseTooLarge) != tooLarge {
			t.Fatalf("reason %s for a %d-byte payload", re.Reason, len(payload))
		}
		return
	}
	if !json.Valid(payload) {
		t.Fatalf("accepted invalid JSON %q", payload)
	}
	if resp.StatusCode() != want.status {
		t.Fatalf("statusCode %d, reference %d: %q", resp.StatusCode(), want.status, payload)
	}
	if !bytes.Equal(resp.Body(), want.body) {
		t.Fatalf("body %q, reference %q: %q", resp.Body(), want.body, payload)
	}
	if got := decodedBase64(payload, multi); got != want.base64 {
		t.Fatalf("isBase64Encoded %v, reference %v: %q", got, want.base64, payload)
	}
	var wantResp fasthttp.Response
	want.write(&wantResp)
	if got, want := renderResponse(&resp), renderResponse(&wantResp); !bytes.Equal(got, want) {
		t.Fatalf("multi=%v %q:\n got: %q\nwant: %q", multi, payload, got, want)
	}
	hdr := resp.Header.Header()
	end := bytes.Index(hdr, []byte("\r\n\r\n"))
	if end != len(hdr)-4 {
		t.Fatalf("header block ends early (%d of %d): %q", end, len(hdr), hdr)
	}
	for i, c := range hdr {
		if c == '\n' && (i == 0 || hdr[i-1] != '\r') || c == '\r' && (i+1 >= len(hdr) || hdr[i+1] != '\n') {
			t.Fatalf("bare CR/LF at %d: %q", i, hdr)
		}
		if c == 0 {
			t.Fatalf("NUL in header: %q", hdr)
		}
	}
}

// decodedBase64 is the isBase64Encoded flag the decoder read from an
// accepted payload.
func decodedBase64(payload []byte, multi bool) bool {
	var d decoder
	if d.parse(payload, multi) != nil {
		return false
	}
	return d.b64
}

// FuzzAppendJSONString: the hand-written escaper (SWAR fast path included)
// always gives valid JSON that decodes to what encoding/json gives.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain ascii text!", `"\`, "\x00\x1f\x7f", "λ😀\xff\xed\xa0\x80", "0123456\"89abcdef\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString([]byte("x"), s)[1:]
		gotB := appendJSONString(nil, []byte(s))
		if !bytes.Equal(got, gotB) {
			t.Fatalf("string and []byte paths differ: %q vs %q", got, gotB)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("invalid JSON %q: %v", got, err)
		}
		if want := validString([]byte(s)); back != want {
			t.Fatalf("round trip %q, want %q", back, want)
		}
	})
}

// FuzzSplitRequestURI: every request target gives a non-empty path, and
// path and query are cut from it (no bytes invented).
func FuzzSplitRequestURI(f *testing.F) {
	for _, s := range []string{"/", "/a?b", "http://h/p?q", "https://h", "?", "#", "*", "ftp://h/admin", "a/b://h/p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		p, q := SplitRequestURI([]byte(uri))
		if len(p) == 0 {
			t.Fatalf("empty path for %q", uri)
		}
		if len(p)+len(q) > len(uri)+1 {
			t.Fatalf("path %q query %q longer than %q", p, q, uri)
		}
	})
}

// FuzzNextQueryParam: the parameters of a query are its non-empty
// '&'-segments, cut at their first '=', in order.
func FuzzNextQueryParam(f *testing.F) {
	for _, s := range []string{"a=1&a=2", "&&k", "=v&k=", "a=b=c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		var want []string
		for _, seg := range strings.Split(query, "&") {
			if seg != "" {
				k, v, _ := strings.Cut(seg, "=")
				want = append(want, k+"\x00"+v)
			}
		}
		var got []string
		for q := []byte(query); ; {
			k, v, rest, ok := NextQueryParam(q)
			if !ok {
				break
			}
			got = append(got, string(k)+"\x00"+string(v))
			q = rest
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("query %q: got %q, want %q", query, got, want)
		}
	})
}
