package lambdaadapter

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/valyala/fasthttp"
)

// checkEventAgainstStruct is the differential check: the event must be
// valid JSON, unmarshal with encoding/json into aws-lambda-go's
// ALBTargetGroupRequest, carry exactly one of the two header/query pairs
// (both present as objects, possibly {}), and hold the values an
// independent, obviously-correct reading of req gives.
func checkEventAgainstStruct(t testing.TB, event []byte, req *fasthttp.Request, c *Conn) {
	t.Helper()
	if !json.Valid(event) {
		t.Fatalf("invalid JSON: %q", event)
	}
	var ev events.ALBTargetGroupRequest
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatalf("unmarshal into ALBTargetGroupRequest: %v", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(event, &top); err != nil {
		t.Fatal(err)
	}
	want := []string{"body", "httpMethod", "isBase64Encoded", "path", "requestContext"}
	if c.MultiValue {
		want = append(want, "multiValueHeaders", "multiValueQueryStringParameters")
	} else {
		want = append(want, "headers", "queryStringParameters")
	}
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(top)); !slices.Equal(got, want) {
		t.Errorf("top-level keys %v, want %v", got, want)
	}
	if ev.RequestContext.ELB.TargetGroupArn != validString([]byte(c.TargetGroupARN)) {
		t.Errorf("targetGroupArn %q", ev.RequestContext.ELB.TargetGroupArn)
	}
	if ev.HTTPMethod != validString(req.Header.Method()) {
		t.Errorf("httpMethod %q, want %q", ev.HTTPMethod, req.Header.Method())
	}
	uri := string(req.Header.RequestURI())
	uri, _, _ = strings.Cut(uri, "#")
	path, query, _ := strings.Cut(uri, "?")
	if !strings.Contains(path, "://") && ev.Path != validString([]byte(path)) {
		t.Errorf("path %q, want %q", ev.Path, path)
	}
	// Query: reference split with strings.Split.
	wantQ := map[string][]string{}
	for seg := range strings.SplitSeq(query, "&") {
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		k, v = validString([]byte(k)), validString([]byte(v))
		wantQ[k] = append(wantQ[k], v)
	}
	if strings.Contains(path, "://") {
		wantQ = nil // absolute-form: checked by golden cases only
	}
	if wantQ != nil {
		if c.MultiValue {
			if !equalMulti(ev.MultiValueQueryStringParameters, wantQ) {
				t.Errorf("multiValueQueryStringParameters %v, want %v", ev.MultiValueQueryStringParameters, wantQ)
			}
		} else if !equalSingle(ev.QueryStringParameters, wantQ) {
			t.Errorf("queryStringParameters %v, want last of %v", ev.QueryStringParameters, wantQ)
		}
	}
	// Body.
	body := req.Body()
	var gotBody []byte
	if ev.IsBase64Encoded {
		var err error
		if gotBody, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			t.Fatalf("body base64: %v", err)
		}
		if len(body) == 0 {
			t.Errorf("empty body flagged base64")
		}
	} else {
		gotBody = []byte(ev.Body)
		body = []byte(validString(body))
	}
	if !bytes.Equal(gotBody, body) {
		t.Errorf("body %q, want %q", gotBody, body)
	}
	// Headers: every header the client sent, minus the balancer's four,
	// which must be present.
	hdrs := ev.MultiValueHeaders
	if !c.MultiValue {
		hdrs = map[string][]string{}
		for k, v := range ev.Headers {
			hdrs[k] = []string{v}
		}
	}
	for _, k := range []string{"x-amzn-trace-id", "x-forwarded-port", "x-forwarded-proto"} {
		if len(hdrs[k]) != 1 {
			t.Errorf("header %s: %q, want one value", k, hdrs[k])
		}
	}
	// Reference: fasthttp's own in-order scanner (or All for built requests).
	folded := hasObsFold(req.Header.RawHeaders())
	seq := req.Header.All()
	if len(req.Header.RawHeaders()) > 0 {
		seq = req.Header.AllInOrder()
	}
	wantH := map[string][]string{}
	var xff []string
	for k, v := range seq {
		name := strings.ToLower(string(k))
		switch name {
		case "x-forwarded-for":
			if len(v) > 0 {
				xff = append(xff, validString(v))
			}
			continue
		case "x-amzn-trace-id", "x-forwarded-port", "x-forwarded-proto":
			continue
		}
		wantH[validString([]byte(name))] = append(wantH[validString([]byte(name))], validString(v))
	}
	if c.ClientIP.IsValid() {
		xff = append(xff, c.ClientIP.Unmap().String())
	}
	if len(xff) > 0 {
		wantH["x-forwarded-for"] = []string{strings.Join(xff, ", ")}
	}
	gotH := maps.Clone(hdrs)
	for _, k := range []string{"x-amzn-trace-id", "x-forwarded-port", "x-forwarded-proto"} {
		delete(gotH, k)
	}
	if folded {
		// fasthttp joins folded lines in place, so a second in-order scan
		// (this reference) reads different bytes; golden cases cover folds.
	} else if c.MultiValue {
		if !equalMulti(gotH, wantH) {
			t.Errorf("multiValueHeaders %q, want %q", gotH, wantH)
		}
	} else {
		single := map[string]string{}
		for k, v := range gotH {
			single[k] = v[0]
		}
		if !equalSingle(single, wantH) {
			t.Errorf("headers %q, want last of %q", single, wantH)
		}
	}
	for k := range hdrs {
		if k != strings.ToLower(k) {
			t.Errorf("header name %q not lower-case", k)
		}
	}
}

// validString is what a JSON round trip of s gives under encoding/json:
// each invalid UTF-8 byte becomes U+FFFD.
func validString(s []byte) string {
	b, _ := json.Marshal(string(s))
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}

func equalMulti(got map[string][]string, want map[string][]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			return false
		}
	}
	return true
}

func equalSingle(got map[string]string, want map[string][]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v[len(v)-1] {
			return false
		}
	}
	return true
}
