package remote

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// Function describes one remote function. Functions builds them from the
// config; the package never reads config files itself.
type Function struct {
	Name string // albedo's name for it (what targets and the Invoke API use)
	ARN  string // as albedo shows it (config.Function.ARN)
	// Target is the FunctionName of every call: the ARN of an arn
	// function (qualifier included), function_name of an endpoint one.
	Target string
	// Endpoint is the base URL of the Invoke API; "" = AWS Lambda, found
	// by the SDK from Region.
	Endpoint string
	// Region is the signing (and, for AWS, endpoint) region.
	Region string
	// Credentials sign the calls to Endpoint; nil sends them unsigned.
	// Ignored for AWS Lambda, which uses the SDK's default chain.
	Credentials *config.Credentials
	// Timeout is albedo's own deadline for one call, retries included.
	Timeout time.Duration
	// PolicyFromService: the function's policy is read with GetPolicy
	// (policy_source: aws).
	PolicyFromService bool
}

// Functions returns the remote functions of cfg, in file order.
func Functions(cfg *config.Config) []Function {
	var out []Function
	for _, f := range cfg.Functions {
		if !f.Remote() {
			continue
		}
		fn := Function{
			Name:              f.Name,
			ARN:               f.ARN,
			Target:            f.RemoteARN,
			Endpoint:          f.Endpoint,
			Region:            cfg.Region,
			Credentials:       f.Credentials,
			Timeout:           time.Duration(f.Timeout) * time.Second,
			PolicyFromService: f.PolicySource == config.PolicySourceAWS,
		}
		if fn.Target == "" {
			fn.Target = f.FunctionName
		}
		// A function named by an ARN lives in the ARN's region.
		if parts := strings.Split(fn.Target, ":"); len(parts) >= 4 && parts[0] == "arn" && parts[3] != "" {
			fn.Region = parts[3]
		}
		if f.Region != "" { // an endpoint function's own signing region
			fn.Region = f.Region
		}
		out = append(out, fn)
	}
	return out
}

// Client invokes one remote function. It is built once at start and is
// safe for concurrent use: the SDK client, its signer and its retryer are
// shared by every call, and the HTTP connections are pooled.
type Client struct {
	fn    Function
	api   *lambda.Client
	httpc *http.Client
}

// Options are shared by every Client of one albedo.
type Options struct {
	// AWS is the SDK configuration of arn functions (credentials).
	// nil: LoadDefaultConfig's, loaded by New when an arn function exists.
	AWS *aws.Config
	// HTTPClient carries every call. nil: NewHTTPClient().
	HTTPClient *http.Client
}

// New builds a Client for every function of fns.
func New(ctx context.Context, fns []Function, opts Options) ([]*Client, error) {
	if opts.HTTPClient == nil {
		opts.HTTPClient = NewHTTPClient()
	}
	for _, fn := range fns {
		if fn.Endpoint == "" && opts.AWS == nil {
			c, err := awsconfig.LoadDefaultConfig(ctx)
			if err != nil {
				return nil, fmt.Errorf("remote: loading the AWS SDK configuration for function %s: %w", fn.Name, err)
			}
			opts.AWS = &c
		}
	}
	out := make([]*Client, len(fns))
	for i, fn := range fns {
		out[i] = NewClient(fn, opts)
	}
	return out, nil
}

// NewClient builds the Client of fn. An arn function needs opts.AWS.
func NewClient(fn Function, opts Options) *Client {
	httpc := opts.HTTPClient
	if httpc == nil {
		httpc = NewHTTPClient()
	}
	own := func(o *lambda.Options) {
		o.Region = fn.Region
		o.HTTPClient = httpc
		o.Retryer = newRetryer()
		o.RetryMaxAttempts = 0 // AWS_MAX_ATTEMPTS would wrap Retryer
		o.APIOptions = append(o.APIOptions, addTraceHeader)
	}
	if fn.Endpoint == "" {
		// Everything else from the SDK's configuration: credentials, and
		// its endpoint settings (AWS_ENDPOINT_URL_LAMBDA, a profile's
		// endpoint_url), as for any SDK client.
		api := lambda.NewFromConfig(*opts.AWS, own, func(o *lambda.Options) {
			if o.Credentials != nil {
				o.Credentials = namedCredentials{o.Credentials}
			}
		}, staticEndpoint)
		return &Client{fn: fn, api: api, httpc: httpc}
	}
	o := lambda.Options{BaseEndpoint: aws.String(fn.Endpoint)}
	own(&o)
	if fn.Credentials != nil {
		o.Credentials = credentials.NewStaticCredentialsProvider(fn.Credentials.AccessKeyID, fn.Credentials.SecretAccessKey, "")
	} else {
		o.Credentials = aws.AnonymousCredentials{} // the SDK then does not sign
	}
	return &Client{fn: fn, api: lambda.New(o, staticEndpoint), httpc: httpc}
}

// Function is the description of the client's function.
func (c *Client) Function() Function { return c.fn }

// Invoke runs one synchronous invocation: req.Payload is the payload,
// req.ClientContext and req.TailLog are passed on, req.TraceID becomes the
// call's X-Amzn-Trace-Id; req.RequestID cannot be chosen by a caller of
// Lambda and is ignored. The answer (payload, X-Amz-Function-Error, request
// id, log tail) comes back as the executor's Response; failures as errors
// that match the executor's sentinels (see the package doc).
func (c *Client) Invoke(ctx context.Context, req executor.Request) (executor.Response, error) {
	ictx, cancel := context.WithTimeout(ctx, c.fn.Timeout)
	defer cancel()
	if req.TraceID != "" {
		ictx = context.WithValue(ictx, traceKey{}, req.TraceID)
	}
	in := lambda.InvokeInput{FunctionName: &c.fn.Target, Payload: req.Payload}
	if req.ClientContext != "" {
		cc := req.ClientContext // not &req.…: req would move to the heap on every call
		in.ClientContext = &cc
	}
	if req.TailLog {
		in.LogType = types.LogTypeTail
	}
	start := time.Now()
	out, err := c.api.Invoke(ictx, &in)
	if err != nil {
		var tooLarge *http.MaxBytesError // limitedTransport's
		if errors.As(err, &tooLarge) {
			return executor.Response{
				FunctionError: executor.FunctionErrorUnhandled,
				ErrorType:     executor.ErrorTypeResponseTooLarge,
				Payload:       []byte(`{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}`),
				Duration:      time.Since(start),
			}, nil
		}
		return executor.Response{}, c.callError("Invoke", ctx, ictx, err)
	}
	resp := executor.Response{Payload: out.Payload, Duration: time.Since(start)}
	resp.RequestID, _ = awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if out.FunctionError != nil {
		resp.FunctionError = *out.FunctionError
		resp.ErrorType = platformErrorType(out.Payload)
	}
	if req.TailLog && out.LogResult != nil {
		resp.Log, _ = base64.StdEncoding.DecodeString(*out.LogResult)
	}
	return resp, nil
}

// Describe is the function as the executor describes local ones, for the
// Invoke API's listings and the async queue: no runtime, no reserved
// concurrency albedo knows of.
func (c *Client) Describe() executor.Function {
	return executor.Function{Name: c.fn.Name, ARN: c.fn.ARN, Timeout: c.fn.Timeout, Reserved: -1, Region: c.fn.Region}
}

// CheckCredentials retrieves the credentials an arn function's calls are
// signed with (nil for an endpoint function), so that start-up can tell a
// missing or expired identity before the first request does.
func (c *Client) CheckCredentials(ctx context.Context) error {
	creds := c.api.Options().Credentials
	if c.fn.Endpoint != "" || creds == nil {
		return nil
	}
	_, err := creds.Retrieve(ctx)
	return err
}

// errNoCredentials: the SDK's default chain found no usable credentials.
var errNoCredentials = errors.New("remote: no AWS credentials (environment, shared config and credentials files, SSO, container or instance role)")

// namedCredentials marks a failure to retrieve credentials, so that it is
// told apart from a failure to connect (callError).
type namedCredentials struct{ aws.CredentialsProvider }

func (n namedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := n.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, fmt.Errorf("%w: %w", errNoCredentials, err)
	}
	return c, nil
}
