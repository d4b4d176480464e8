package lambdaadapter

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestDecodeResponseSizeLimit(t *testing.T) {
	t.Parallel()
	prefix, suffix := `{"statusCode":200,"body":"`, `"}`
	exact := prefix + strings.Repeat("a", MaxResponseSize-len(prefix)-len(suffix)) + suffix
	tests := []struct {
		name    string
		payload string
		want    error
	}{
		{"exactly 1 MB", exact, nil},
		{"1 MB + 1", exact + " ", ErrResponseTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp fasthttp.Response
			err := DecodeResponse([]byte(tt.payload), false, &resp)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var re *ResponseError
			if tt.want != nil && (!errors.As(err, &re) || re.Reason != ReasonResponseTooLarge) {
				t.Fatalf("err = %#v, want a ResponseError with reason %s", err, ReasonResponseTooLarge)
			}
		})
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		payload string
		multi   bool
		detail  string // substring
	}{
		{"headers over 32 KB", `{"statusCode":200,"headers":{"X-Big":"` + strings.Repeat("v", MaxResponseHeaderSize) + `"}}`, false, "32 KB"},
		{"header type checked in single mode", `{"statusCode":200,"headers":{"X":1}}`, false, "must be a string"},
		{"multi-value header type checked in multi mode", `{"statusCode":200,"multiValueHeaders":{"X":[1]}}`, true, "array of strings"},
		{"lone escape", `{"statusCode":200,"body":"\x"}`, false, "valid escape"},
		{"bad unicode escape", `{"statusCode":200,"body":"\u12G4"}`, false, "4 hex digits"},
		{"raw control char", "{\"statusCode\":200,\"body\":\"a\tb\"}", false, "control character"},
		{"deep nesting", `{"statusCode":200,"x":` + strings.Repeat("[", maxNesting+5) + strings.Repeat("]", maxNesting+5) + `}`, false, "nested too deeply"},
		{"missing colon", `{"statusCode" 200}`, false, "':'"},
		{"trailing comma", `{"statusCode":200,}`, false, "object key"},
		{"unpadded base64", `{"statusCode":200,"isBase64Encoded":true,"body":"aGk"}`, false, "invalid base64"},
		// A 1xx is never a final response (RFC 9110 §15.2): sent as one,
		// 100 leaves the client waiting and 101 tells it the connection
		// changed protocol.
		{"1xx refused", `{"statusCode":100}`, false, "outside 200-599"},
		{"101 refused", `{"statusCode":101}`, true, "outside 200-599"},
		{"null isBase64Encoded", `{"statusCode":200,"isBase64Encoded":null}`, false, "must be a boolean, got null"},
		{"header value with LF escape in multi", `{"statusCode":200,"multiValueHeaders":{"X":["a\nb"]}}`, true, "CR, LF or NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var resp fasthttp.Response
			resp.SetStatusCode(299)
			err := DecodeResponse([]byte(tt.payload), tt.multi, &resp)
			var re *ResponseError
			if !errors.As(err, &re) || !errors.Is(err, ErrInvalidResponse) || re.Reason != ReasonInvalidResponse {
				t.Fatalf("err = %v, want an invalid-response ResponseError", err)
			}
			if !strings.Contains(re.Detail, tt.detail) {
				t.Errorf("detail %q, want it to contain %q", re.Detail, tt.detail)
			}
			if resp.StatusCode() != 299 || len(resp.Body()) != 0 {
				t.Errorf("resp was modified on error")
			}
		})
	}
}

func TestDecodeResponseValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		payload    string
		multi      bool
		wantStatus int
		wantBody   string
		wantHeader map[string]string
		absent     []string
	}{
		{"200 allowed", `{"statusCode":200}`, false, 200, "", nil, nil},
		{"599 allowed", `{"statusCode":599,"body":"x"}`, false, 599, "x", nil, nil},
		{"whitespace everywhere", " \n{ \"statusCode\" : 200 , \"body\" : \"b\" } \n", false, 200, "b", nil, nil},
		{"escaped key", `{"status\u0043ode":203}`, false, 203, "", nil, nil},
		{"base64 false keeps text", `{"statusCode":200,"isBase64Encoded":false,"body":"aGk="}`, false, 200, "aGk=", nil, nil},
		{"no default content type", `{"statusCode":200,"body":"x"}`, false, 200, "x", nil, []string{"Content-Type"}},
		{"content-type from function", `{"statusCode":200,"headers":{"content-type":"text/html"}}`, false, 200, "", map[string]string{"Content-Type": "text/html"}, nil},
		{"proxy-* dropped", `{"statusCode":200,"headers":{"Proxy-Connection":"x","X":"y"}}`, false, 200, "", map[string]string{"X": "y"}, []string{"Proxy-Connection"}},
		{"multi: last array wins for repeated key", `{"statusCode":200,"multiValueHeaders":{"X":["1"]},"multiValueHeaders":{"Y":["2"]}}`, true, 200, "", map[string]string{"Y": "2"}, []string{"X"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var resp fasthttp.Response
			if err := DecodeResponse([]byte(tt.payload), tt.multi, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode() != tt.wantStatus || string(resp.Body()) != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode(), resp.Body(), tt.wantStatus, tt.wantBody)
			}
			for k, v := range tt.wantHeader {
				if got := string(resp.Header.Peek(k)); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			hdr := resp.Header.String()
			for _, k := range tt.absent {
				if strings.Contains(strings.ToLower(hdr), strings.ToLower(k)+":") {
					t.Errorf("header %s present:\n%s", k, hdr)
				}
			}
		})
	}
}

// TestDecodeResponseNoInjection checks that what reaches the wire never has
// a header line the function did not mean, whatever the escapes.
func TestDecodeResponseNoInjection(t *testing.T) {
	t.Parallel()
	for _, p := range []string{
		`{"statusCode":200,"headers":{"X":"a\u000d\u000aEvil: 1"}}`,
		`{"statusCode":200,"headers":{"X\u000aEvil":"1"}}`,
		`{"statusCode":200,"multiValueHeaders":{"X":["ok","a\rEvil: 1"]}}`,
	} {
		var resp fasthttp.Response
		if err := DecodeResponse([]byte(p), strings.Contains(p, "multi"), &resp); err == nil {
			t.Errorf("%s: accepted; header:\n%s", p, resp.Header.Header())
		}
	}
}

func TestResponseErrorMessage(t *testing.T) {
	t.Parallel()
	err := &ResponseError{Reason: ReasonInvalidResponse, Detail: "statusCode: missing"}
	if got, want := err.Error(), "lambdaadapter: LambdaInvalidResponse: statusCode: missing"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if errors.Is(err, ErrResponseTooLarge) {
		t.Error("invalid response matches ErrResponseTooLarge")
	}
}

// TestDecodeResponseManyDuplicateHeaders covers the map path of the
// last-key-wins rule (more than 64 headers).
func TestDecodeResponseManyDuplicateHeaders(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`{"statusCode":200,"headers":{`)
	for i := range 500 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"X-` + string(rune('a'+i%10)) + `":"` + strconv.Itoa(i) + `"`)
	}
	b.WriteString(`}}`)
	var resp fasthttp.Response
	if err := DecodeResponse([]byte(b.String()), false, &resp); err != nil {
		t.Fatal(err)
	}
	for k := range 10 {
		name := "X-" + string(rune('a'+k))
		if got, want := string(resp.Header.Peek(name)), strconv.Itoa(490+k); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if n := strings.Count(resp.Header.String(), "\r\nX-"); n != 10 {
		t.Errorf("%d X- headers, want 10", n)
	}
}
