package lambdaadapter

// MaxRequestBodySize is the largest request body the balancer forwards to a
// Lambda target: 1 MB (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html, "Limits").
// Above it the ALB answers 413 (error_reason LambdaRequestTooLarge) without
// invoking the function. "1 MB" is read as 2^20 bytes (UNCONFIRMED: AWS
// does not say which).
const MaxRequestBodySize = 1 << 20

// MaxResponseSize is the largest function response payload, in bytes of
// JSON, the ALB accepts: 1 MB (2^20, UNCONFIRMED as for the request). A
// larger payload is refused with ReasonResponseTooLarge.
const MaxResponseSize = 1 << 20

// MaxResponseHeaderSize is the ALB's fixed limit on the whole response
// header (32 K: ALB quotas, "HTTP headers",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html). Headers from the function that add up to more
// (counted as name + ": " + value + CRLF) are refused with
// ReasonInvalidResponse.
const MaxResponseHeaderSize = 32 << 10

// traceRewriteHeaderSize is the request header size above which the ALB
// rewrites X-Amzn-Trace-Id to a fresh Root field only ("If the HTTP
// headers are greater than 7 KB": request tracing, "Limitations",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-request-tracing.html#request-tracing-limits).
const traceRewriteHeaderSize = 7 << 10

// maxNesting bounds the depth of JSON values skipped in a response (unknown
// keys), so a hostile payload cannot exhaust the stack.
const maxNesting = 1000
