package lambdaadapter

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// typicalRequest is a browser GET: 12 headers, 3 query parameters, no body.
const typicalRequest = "GET /products/list?category=shoes&page=2&sort=price_asc HTTP/1.1\r\n" +
	"Host: shop.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Referer: https://shop.example.com/\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: session=3f2a9c1e7b; theme=dark; _ga=GA1.2.1234567890.1700000000\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"Sec-Fetch-Dest: document\r\n" +
	"Sec-Fetch-Mode: navigate\r\n" +
	"Priority: u=0, i\r\n\r\n"

// typicalResponse is what a web handler behind aws-lambda-go returns.
const typicalResponse = `{"statusCode":200,"statusDescription":"200 OK","isBase64Encoded":false,` +
	`"headers":{"Content-Type":"text/html; charset=utf-8","Cache-Control":"no-cache","Set-Cookie":"session=3f2a9c1e7b; Path=/; HttpOnly","X-Request-Id":"c0ffee-1234"},` +
	`"body":"<!doctype html><html><head><title>Shoes</title></head><body><h1>Shoes</h1><p>Page 2 of 9</p></body></html>"}`

func benchConn(multi bool) *Conn {
	return &Conn{
		ClientIP:       netip.MustParseAddr("198.51.100.23"),
		ClientPort:     50123,
		ListenerPort:   443,
		Scheme:         "https",
		TargetGroupARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop/6d0ecf831eec9f09",
		MultiValue:     multi,
	}
}

func postRequest(tb testing.TB, contentType string, body []byte) *fasthttp.Request {
	tb.Helper()
	raw := "POST /api/upload HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: bench\r\n" +
		"Content-Type: " + contentType + "\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
	req := new(fasthttp.Request)
	if err := req.Read(bufioReader(raw)); err != nil {
		tb.Fatal(err)
	}
	return req
}

func jsonBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < n-40; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":` + strconv.Itoa(i) + `,"name":"item \"` + strconv.Itoa(i) + `\""}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func binaryBody(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
