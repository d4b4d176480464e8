package httpwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// parsed is one request as either reader saw it.
type parsed struct {
	method  string
	path    string
	header  http.Header
	body    []byte
	trailer http.Header
	host    string // "" when not compared
}

// diffLimit is the body limit of the differential test, above any input
// the fuzzer makes up.
const diffLimit = 1 << 20

// readOurs reads the next request with r. tooLarge: the body is beyond
// diffLimit and was not compared.
func readOurs(r *Reader) (p parsed, tooLarge bool, err error) {
	if err := r.ReadHead(); err != nil {
		return p, false, err
	}
	body, _, tooLarge, err := r.ReadBody(diffLimit)
	if err != nil {
		return p, false, err
	}
	p = parsed{method: string(r.Req.Method), path: string(r.Req.Path), header: http.Header{}, body: body}
	for _, f := range r.Req.Header {
		p.header.Add(string(f.Name), string(f.Value))
	}
	if len(r.Req.Trailer) > 0 {
		p.trailer = http.Header{}
		for _, f := range r.Req.Trailer {
			p.trailer.Add(string(f.Name), string(f.Value))
		}
	}
	// What net/http does with the framing fields, so that the rest compares.
	chunked := r.Req.ContentLength < 0
	if cl := p.header["Content-Length"]; len(cl) > 1 {
		p.header["Content-Length"] = cl[:1]
	}
	if chunked {
		p.header.Del("Content-Length")
		p.header.Del("Trailer")
	}
	p.header.Del("Transfer-Encoding")
	p.host, p.header = p.header.Get("Host"), p.header.Clone()
	p.header.Del("Host") // net/http moves it to Request.Host
	if pr := p.header["Pragma"]; len(pr) > 0 && pr[0] == "no-cache" && p.header["Cache-Control"] == nil {
		p.header["Cache-Control"] = []string{"no-cache"}
	}
	return p, tooLarge, nil
}

// readReference reads the next request with net/http.ReadRequest, plus
// the two checks net/http's server makes on what ReadRequest accepts and
// a Reader makes itself: HTTP/1.x only (505 otherwise), and no
// expectation but 100-continue among others (417 otherwise).
func readReference(br *bufio.Reader) (parsed, error) {
	// A Reader skips empty lines before a request line (see the package
	// doc); so does the reference here.
	for {
		b, _ := br.Peek(2)
		switch {
		case len(b) > 0 && b[0] == '\n':
			br.Discard(1)
			continue
		case len(b) == 2 && b[0] == '\r' && b[1] == '\n':
			br.Discard(2)
			continue
		}
		break
	}
	req, err := http.ReadRequest(br)
	if err != nil {
		return parsed{}, err
	}
	if req.ProtoMajor != 1 {
		return parsed{}, errors.New("version not supported")
	}
	if e := req.Header.Get("Expect"); e != "" && !slices.ContainsFunc(strings.FieldsFunc(e, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }),
		func(s string) bool { return strings.EqualFold(s, "100-continue") }) {
		return parsed{}, errors.New("expectation failed")
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, diffLimit+1))
	if err != nil {
		return parsed{}, err
	}
	p := parsed{method: req.Method, path: referencePath(req), header: req.Header, body: body, host: req.Host}
	if req.URL.Host != "" {
		p.host = "" // the target's authority, not the Host field
	}
	for name, vs := range req.Trailer {
		if vs != nil { // declared and sent
			if p.trailer == nil {
				p.trailer = http.Header{}
			}
			p.trailer[name] = vs
		}
	}
	return p, nil
}

// referencePath is the path of req's target as sent, before the query:
// for an absolute-form target (URL.Scheme set) what follows the
// authority, none for an opaque one.
func referencePath(req *http.Request) string {
	target, _, _ := strings.Cut(req.RequestURI, "?")
	if req.URL.Scheme == "" || req.Method == "CONNECT" && !strings.HasPrefix(target, "/") {
		if strings.HasPrefix(target, "/") {
			return target
		}
		return "" // "*", CONNECT's authority
	}
	if req.URL.Opaque != "" {
		return ""
	}
	_, rest, _ := strings.Cut(target, ":")
	if auth, ok := strings.CutPrefix(rest, "//"); ok {
		if i := strings.IndexByte(auth, '/'); i >= 0 {
			return auth[i:]
		}
		return ""
	}
	return rest
}

// knownDifference reports whether ours refused a request net/http reads,
// for one of the reasons the package doc lists.
func knownDifference(err error) bool {
	for _, known := range []error{errSpaceInName, errObsFold, errTrailerNoCRLF} {
		if errors.Is(err, known) {
			return true
		}
	}
	return false
}

// FuzzAgainstNetHTTP reads arbitrary bytes as a stream of requests with a
// Reader and with net/http.ReadRequest: both accept or refuse each
// request alike (but for the package doc's differences), and read the
// same method, path, header fields, body and trailer fields.
func FuzzAgainstNetHTTP(f *testing.F) {
	for _, s := range diffSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ours := NewReader(bytes.NewReader(data), 64) // small: lines span reads
		// The reference's buffer holds the whole input: its look-ahead for
		// the end of a trailer section sees everything, as a Reader's
		// 1 MB trailer limit does.
		ref := bufio.NewReaderSize(bytes.NewReader(data), len(data)+16)
		for i := 0; ; i++ {
			want, werr := readReference(ref)
			got, tooLarge, gerr := readOurs(ours)
			if tooLarge {
				// Ours stopped at the limit (a Content-Length one unread):
				// net/http must find the body too large or cut short, and
				// the streams are out of step from here.
				if werr == nil && len(want.body) <= diffLimit {
					t.Fatalf("request %d: ours too large, net/http read %d bytes", i, len(want.body))
				}
				return
			}
			if (werr == nil) != (gerr == nil) {
				if werr == nil && knownDifference(gerr) {
					return
				}
				t.Fatalf("request %d: net/http: %v, ours: %v\n%q", i, werr, gerr, data)
			}
			if werr != nil {
				return
			}
			if want.host == "" {
				got.host = ""
			}
			if got.method != want.method || got.path != want.path || got.host != want.host {
				t.Fatalf("request %d: ours %s %q host %q, net/http %s %q host %q", i, got.method, got.path, got.host, want.method, want.path, want.host)
			}
			if !maps.EqualFunc(got.header, want.header, slices.Equal) {
				t.Fatalf("request %d: header\nours     %q\nnet/http %q", i, got.header, want.header)
			}
			if !bytes.Equal(got.body, want.body) {
				t.Fatalf("request %d: body\nours     %q\nnet/http %q", i, got.body, want.body)
			}
			if !maps.EqualFunc(got.trailer, want.trailer, slices.Equal) {
				t.Fatalf("request %d: trailer\nours     %q\nnet/http %q", i, got.trailer, want.trailer)
			}
		}
	})
}

// diffSeeds are what runtimes send, and the corners of the syntax.
var diffSeeds = []string{
	"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUser-Agent: aws-lambda-go/go1.26\r\n\r\n",
	"POST /2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/response HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUser-Agent: aws-lambda-go/go1.26\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\nTrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\nAccept-Encoding: gzip\r\n\r\n1e\r\n{\"statusCode\":200,\"body\":\"ok\"}\r\n0\r\n\r\n",
	"POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTrailer: Lambda-Runtime-Function-Error-Type\r\n\r\n2\r\n{}\r\n0\r\nLambda-Runtime-Function-Error-Type: Runtime.X\r\nLambda-Runtime-Function-Error-Body: e30=\r\n\r\n",
	"POST /r HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhelloGET /next HTTP/1.1\r\n\r\n",
	"POST /r HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
	"POST /r HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\nhello",
	"POST /r HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3 ;x=y\r\nabc\r\n0\r\n\r\n",
	"POST /r HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
	"GET http://127.0.0.1:9001/2018-06-01/runtime/invocation/next?x=1 HTTP/1.1\r\n\r\n",
	"GET /a%2Fb?c=%zz HTTP/1.1\nHost: x\n\n",
	"GET /a%zz HTTP/1.1\r\n\r\n",
	"CONNECT example.com:443 HTTP/1.1\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\n\r\n",
	"GET / HTTP/1.2\r\nExpect: 100-continue\r\nPragma: no-cache\r\n\r\n",
	"GET / HTTP/2.0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
	"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
	"GET / HTTP/1.1\r\nA: b\r\r\n\r\n",
	"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\n\r\n",
	"\r\n\nGET / HTTP/1.1\r\n\r\n",
	// found by the fuzzer: an empty Expect is none; leading zeros
	"0 * HTTP/1.0\nEXpeCt:\n\n",
	"0 * HTTP/1.0\nContent-Length:00000000000000000000\n\n",
	"0 * HTTP/1.0\nContent-Length:2000000\n\n",
}

// TestKnownDifferences pins each difference from net/http the package doc
// lists: net/http reads these requests, a Reader refuses them, each with
// its own error.
func TestKnownDifferences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     error
	}{
		{"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", errSpaceInName},
		{"space in name", "GET / HTTP/1.1\r\nX A: a\r\n\r\n", errSpaceInName},
		{"obsolete folding", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", errObsFold},
		// net/http reads the trailer section only because a CRLF CRLF
		// follows: the next request's.
		{"trailer with bare LF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\n\r\nGET / HTTP/1.1\r\n\r\n", errTrailerNoCRLF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := readReference(bufio.NewReader(strings.NewReader(tt.in))); err != nil {
				t.Fatalf("net/http refuses it: %v", err)
			}
			_, _, err := readOurs(NewReader(strings.NewReader(tt.in), 64))
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrBadRequest) {
				t.Errorf("ours: %v, want %v", err, tt.want)
			}
		})
	}
}
