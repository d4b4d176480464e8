package lambdaadapter

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	eventsDir    = "../testdata/events"
	responsesDir = "../testdata/responses"
	testARN      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lambda-target/abcdefg"
)

// testEncoder is deterministic: a fixed clock and a constant random source.
func testEncoder() *Encoder {
	return &Encoder{
		Now:  func() time.Time { return time.Unix(0x5c34e93e, 0) },
		Rand: func() uint64 { return 0x0123456789abcdef },
	}
}

// parseCase splits a golden .http file into connection facts (leading
// "# key: value" lines) and a raw request whose header lines are
// normalised to CRLF; the body is kept byte for byte.
func parseCase(t testing.TB, data []byte) (*Conn, []byte) {
	t.Helper()
	c := &Conn{
		ClientIP:       netip.MustParseAddr("203.0.113.7"),
		ClientPort:     54321,
		ListenerPort:   80,
		Scheme:         "http",
		TargetGroupARN: testARN,
	}
	for bytes.HasPrefix(data, []byte("# ")) {
		i := bytes.IndexByte(data, '\n')
		line := string(data[2:i])
		data = data[i+1:]
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "multi-value":
			c.MultiValue = v == "true"
		case "scheme":
			c.Scheme = v
		case "listener-port":
			c.ListenerPort, _ = strconv.Atoi(v)
		case "client-ip":
			c.ClientIP = netip.MustParseAddr(v)
		case "note":
		default:
			t.Fatalf("unknown case directive %q", k)
		}
	}
	if bytes.Contains(data, []byte("\r\n")) {
		return c, data
	}
	head, body, _ := bytes.Cut(data, []byte("\n\n"))
	raw := bytes.ReplaceAll(head, []byte("\n"), []byte("\r\n"))
	raw = append(raw, "\r\n\r\n"...)
	return c, append(raw, body...)
}

func readRequest(t testing.TB, raw []byte) *fasthttp.Request {
	t.Helper()
	req := new(fasthttp.Request)
	if err := req.Read(bufio.NewReader(bytes.NewReader(raw))); err != nil {
		t.Fatalf("read request: %v", err)
	}
	return req
}

func TestGoldenEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.http"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s: %v", eventsDir, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".http")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, raw := parseCase(t, data)
			req := readRequest(t, raw)
			got := append(testEncoder().AppendEvent(nil, req, c), '\n')
			checkEventAgainstStruct(t, got, req, c)
			goldenCompare(t, strings.TrimSuffix(f, ".http")+".golden.json", got)
		})
	}
}

func TestGoldenResponses(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(responsesDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s: %v", responsesDir, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			multi := strings.HasPrefix(name, "mv-")
			goldenCompare(t, filepath.Join(responsesDir, name+".golden.http"), renderDecode(payload, multi))
		})
	}
}

// renderDecode shows what the client would receive: the response bytes
// fasthttp writes (minus the Date line), or the 502 reason and detail.
func renderDecode(payload []byte, multi bool) []byte {
	var resp fasthttp.Response
	err := DecodeResponse(payload, multi, &resp)
	if err != nil {
		var re *ResponseError
		if !errors.As(err, &re) {
			return []byte("unexpected error type: " + err.Error() + "\n")
		}
		return []byte("502 " + re.Reason + "\n" + re.Detail + "\n")
	}
	return renderResponse(&resp)
}

// renderResponse is the response as fasthttp writes it, minus the Date line.
func renderResponse(resp *fasthttp.Response) []byte {
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	if err := resp.Write(w); err != nil {
		return []byte("write: " + err.Error() + "\n")
	}
	w.Flush()
	var lines []byte
	for line := range bytes.Lines(out.Bytes()) {
		if !bytes.HasPrefix(line, []byte("Date: ")) {
			lines = append(lines, line...)
		}
	}
	return lines
}

func goldenCompare(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s mismatch\n got: %s\nwant: %s", path, got, want)
	}
}
