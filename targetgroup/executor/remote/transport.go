package remote

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	smithymiddleware "github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// Connection pool settings of NewHTTPClient.
const (
	// maxIdlePerHost keeps enough idle connections for a balancer's
	// concurrency against one endpoint; Go's default (2) would close and
	// re-dial most of them under load.
	maxIdlePerHost = 256
	// idleTimeout closes idle connections well before a server's own idle
	// timeout (albedo's admin listener: 2 min; Lambda's: unpublished), so
	// that a call rarely meets a connection the server is closing.
	idleTimeout = 30 * time.Second
	// maxResponseBody is Lambda's response limit; a server sending more is
	// answering outside the protocol.
	maxResponseBody = executor.MaxResponseSize
)

// NewHTTPClient is the HTTP client every remote call goes through: one
// keep-alive connection pool for all remote functions, and response
// bodies limited to Lambda's 6 MB.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4 * maxIdlePerHost
	t.MaxIdleConnsPerHost = maxIdlePerHost
	t.IdleConnTimeout = idleTimeout
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: limitedTransport{t}}
}

// limitedTransport caps every response body at maxResponseBody.
type limitedTransport struct{ rt http.RoundTripper }

func (l limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if _, ok := r.Body.(io.WriterTo); ok {
		// The SDK closes the request body as soon as the response has
		// arrived, and its body's WriteTo then answers io.EOF as an
		// error. When the server answers before the transport's last
		// check of the body (a read past Content-Length), that error
		// fails the write and the transport closes the connection: a
		// new connection for one call in ten or so. Read after Close
		// answers a plain EOF, so the body goes out through Read only.
		r2 := *r
		r2.Body = readOnlyBody{r.Body}
		r = &r2
	}
	resp, err := l.rt.RoundTrip(r)
	if err == nil && resp.Body != nil {
		// One byte more tells a body of exactly the limit from a larger
		// one: the reader then fails with *http.MaxBytesError.
		resp.Body = http.MaxBytesReader(nil, resp.Body, maxResponseBody)
	}
	return resp, err
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// pool.
func (l limitedTransport) CloseIdleConnections() {
	if c, ok := l.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// readOnlyBody hides its body's WriteTo.
type readOnlyBody struct{ io.ReadCloser }

// Retry settings. Invoke is not idempotent: only a call that never left
// albedo (the connection could not be made) is tried again, never one the
// service may have run. Each retry waits at most maxBackoff, and the
// call's deadline (Function.Timeout) bounds them all: the SDK's retry loop
// stops when the context is done.
const (
	maxAttempts = 3
	maxBackoff  = 100 * time.Millisecond
)

func newRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(dialFailed)}
		// No client-side retry quota: retries are few and bounded by the
		// deadline, and a spent quota would hide the real error.
		o.RateLimiter = ratelimit.None
	})
}

// dialFailed reports whether err is a failure to connect, before anything
// was sent.
func dialFailed(err error) aws.Ternary {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return aws.TrueTernary
	}
	return aws.FalseTernary
}

// traceKey carries a call's X-Amzn-Trace-Id in its context.
type traceKey struct{}

// addTraceHeader sends the ALB's trace id with the call, as the ALB passes
// its X-Amzn-Trace-Id to Lambda. The SDK's signer never signs this header.
func addTraceHeader(stack *smithymiddleware.Stack) error {
	return stack.Build.Add(traceHeader, smithymiddleware.After)
}

var traceHeader = smithymiddleware.BuildMiddlewareFunc("albedoTraceID", func(ctx context.Context, in smithymiddleware.BuildInput, next smithymiddleware.BuildHandler) (smithymiddleware.BuildOutput, smithymiddleware.Metadata, error) {
	if id, ok := ctx.Value(traceKey{}).(string); ok {
		if r, ok := in.Request.(*smithyhttp.Request); ok {
			r.Header.Set("X-Amzn-Trace-Id", id)
		}
	}
	return next.HandleBuild(ctx, in)
})

// staticEndpoint resolves the client's endpoint once, at construction,
// with the SDK's own resolver and the parameters its middleware would
// bind: the rules engine otherwise runs on every call to compute the same
// URL (a quarter of the client's CPU per call). A resolution that fails
// is left to the SDK, which then reports it on every call.
func staticEndpoint(o *lambda.Options) {
	if o.EndpointResolverV2 == nil {
		return
	}
	params := lambda.EndpointParameters{
		Region:       aws.String(o.Region),
		UseDualStack: aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		UseFIPS:      aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		Endpoint:     o.BaseEndpoint,
	}
	e, err := o.EndpointResolverV2.ResolveEndpoint(context.Background(), params)
	if err != nil {
		return
	}
	o.EndpointResolverV2 = resolvedEndpoint{e}
}

// resolvedEndpoint is an endpoint resolved in advance. The SDK copies the
// Endpoint it gets and only reads its Headers and Properties.
type resolvedEndpoint struct{ e smithyendpoints.Endpoint }

func (r resolvedEndpoint) ResolveEndpoint(context.Context, lambda.EndpointParameters) (smithyendpoints.Endpoint, error) {
	return r.e, nil
}
