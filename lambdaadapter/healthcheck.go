package lambdaadapter

// HealthCheckUserAgent is the User-Agent of the ALB's health checks.
const HealthCheckUserAgent = "ELB-HealthChecker/2.0"

// AppendHealthCheckEvent appends the event of a target group's health check
// as AWS documents it ("Enable health checks",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html#enable-health-checks-lambda):
// GET, no query, only a user-agent header, empty body.
// path is used verbatim ("" means "/"); that a customised HealthCheckPath
// becomes path, and the multi-value shape (the same fields in their
// multi-value form), are UNCONFIRMED.
func AppendHealthCheckEvent(dst []byte, targetGroupARN, path string, multiValue bool) []byte {
	if path == "" {
		path = "/"
	}
	dst = append(dst, `{"requestContext":{"elb":{"targetGroupArn":`...)
	dst = appendJSONString(dst, targetGroupARN)
	dst = append(dst, `}},"httpMethod":"GET","path":`...)
	dst = appendJSONString(dst, path)
	if multiValue {
		dst = append(dst, `,"multiValueQueryStringParameters":{},"multiValueHeaders":{"user-agent":["`+HealthCheckUserAgent+`"]}`...)
	} else {
		dst = append(dst, `,"queryStringParameters":{},"headers":{"user-agent":"`+HealthCheckUserAgent+`"}`...)
	}
	return append(dst, `,"body":"","isBase64Encoded":false}`...)
}
