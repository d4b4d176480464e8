package lambdaadapter

import (
	"testing"

	"github.com/valyala/fasthttp"
)

func benchEncode(b *testing.B, req *fasthttp.Request, c *Conn) {
	var e Encoder
	buf := e.AppendEvent(nil, req, c)
	b.SetBytes(int64(len(req.Body())))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf = e.AppendEvent(buf[:0], req, c)
	}
}

func BenchmarkAppendEventTypical(b *testing.B) {
	benchEncode(b, readRequest(b, []byte(typicalRequest)), benchConn(false))
}

func BenchmarkAppendEventTypicalMultiValue(b *testing.B) {
	benchEncode(b, readRequest(b, []byte(typicalRequest)), benchConn(true))
}

func BenchmarkAppendEventJSON64K(b *testing.B) {
	benchEncode(b, postRequest(b, "application/json", jsonBody(64<<10)), benchConn(false))
}

func BenchmarkAppendEventBinary64K(b *testing.B) {
	benchEncode(b, postRequest(b, "application/octet-stream", binaryBody(64<<10)), benchConn(false))
}

// BenchmarkAppendEventTypicalFreshBuffer is the caller that does not reuse
// its buffer (targetgroup hands the payload to another goroutine).
func BenchmarkAppendEventTypicalFreshBuffer(b *testing.B) {
	req, c := readRequest(b, []byte(typicalRequest)), benchConn(false)
	var e Encoder
	b.ReportAllocs()
	for b.Loop() {
		_ = e.AppendEvent(make([]byte, 0, 2048), req, c)
	}
}

func BenchmarkAppendHealthCheckEvent(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendHealthCheckEvent(buf[:0], "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop/6d0ecf831eec9f09", "/", false)
	}
}
