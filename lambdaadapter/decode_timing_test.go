package lambdaadapter

import (
	"encoding/base64"
	"testing"

	"github.com/valyala/fasthttp"
)

func benchDecode(b *testing.B, payload []byte, multi bool) {
	var resp fasthttp.Response
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		resp.Reset()
		if err := DecodeResponse(payload, multi, &resp); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeResponseTypical(b *testing.B) {
	benchDecode(b, []byte(typicalResponse), false)
}

func BenchmarkDecodeResponseMultiValue(b *testing.B) {
	benchDecode(b, []byte(`{"statusCode":200,"multiValueHeaders":{"Content-Type":["application/json"],"Set-Cookie":["a=1","b=2"]},"body":"{\"ok\":true}"}`), true)
}

func BenchmarkDecodeResponseBase64_64K(b *testing.B) {
	body := base64.StdEncoding.EncodeToString(binaryBody(64 << 10))
	benchDecode(b, []byte(`{"statusCode":200,"headers":{"Content-Type":"image/png"},"isBase64Encoded":true,"body":"`+body+`"}`), false)
}
