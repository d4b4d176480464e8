package lambdaadapter_test

import (
	"bufio"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/albedo-lb/albedo/lambdaadapter"
	"github.com/valyala/fasthttp"
)

func ExampleEncoder_AppendEvent() {
	var req fasthttp.Request
	raw := "GET /hello%20world?name=a+b&name=c HTTP/1.1\r\nHost: example.com\r\nCookie: a=1\r\n\r\n"
	if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		panic(err)
	}
	enc := lambdaadapter.Encoder{
		Now:  func() time.Time { return time.Unix(1700000000, 0) },
		Rand: func() uint64 { return 0xfeedfacecafebeef },
	}
	ev := enc.AppendEvent(nil, &req, &lambdaadapter.Conn{
		ClientIP:       netip.MustParseAddr("192.0.2.10"),
		ListenerPort:   80,
		Scheme:         "http",
		TargetGroupARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1",
	})
	fmt.Println(string(ev))
	// Output:
	// {"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1"}},"httpMethod":"GET","path":"/hello%20world","queryStringParameters":{"name":"c"},"headers":{"cookie":"a=1","host":"example.com","x-amzn-trace-id":"Root=1-6553f100-feedfacecafebeeffeedface","x-forwarded-for":"192.0.2.10","x-forwarded-port":"80","x-forwarded-proto":"http"},"body":"","isBase64Encoded":false}
}

func ExampleDecodeResponse() {
	var resp fasthttp.Response
	err := lambdaadapter.DecodeResponse([]byte(`{"statusCode":"200"}`), false, &resp)
	fmt.Println(err)
	err = lambdaadapter.DecodeResponse([]byte(`{"statusCode":201,"headers":{"Location":"/x"},"body":"made"}`), false, &resp)
	fmt.Println(err, resp.StatusCode(), string(resp.Header.Peek("Location")), string(resp.Body()))
	// Output:
	// lambdaadapter: LambdaInvalidResponse: statusCode: must be an integer, got "200"
	// <nil> 201 /x made
}
