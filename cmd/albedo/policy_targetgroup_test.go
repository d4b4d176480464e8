package main

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/lambdaadapter"
	"github.com/albedo-lb/albedo/targetgroup"
	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/invokeapi"
	"github.com/albedo-lb/albedo/targetgroup/executor/policy"
)

// The policy store serves both consumers serve wires it into.
var (
	_ targetgroup.Policies = (*policy.Store)(nil)
	_ invokeapi.Policies   = (*policy.Store)(nil)
)

// albInvoker is an Invoker with one function, "alb", that answers every
// invocation with a minimal ALB response.
type albInvoker struct{}

var albFunction = executor.Function{Name: "alb", ARN: config.FunctionARN("us-east-1", "123456789012", "alb"), Reserved: -1}

func (albInvoker) Invoke(_ context.Context, req executor.Request) (executor.Response, error) {
	if req.Function != albFunction.Name {
		return executor.Response{}, executor.ErrFunctionNotFound
	}
	return executor.Response{RequestID: "11111111-2222-4333-8444-555555555555", Payload: []byte(`{"statusCode":200,"body":"ok"}`)}, nil
}

func (albInvoker) Function(name string) (executor.Function, bool) {
	return albFunction, name == albFunction.Name
}

func (albInvoker) Functions() []executor.Function { return []executor.Function{albFunction} }

// serveAPI runs api's own admin server on a loopback listener until the
// test ends and returns its address.
func serveAPI(t testing.TB, api *invokeapi.API) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.NewServer()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.ShutdownWithContext(ctx)
		_ = ln.Close() // Serve returns even if Shutdown came first
		<-done
	})
	return ln.Addr().String()
}

// TestPolicyChangeReachesTargetGroup: a target group reading its
// permission from the policy store is denied on the first request after
// RemovePermission and allowed again after AddPermission (the balancer
// maps targetgroup.ErrAccessDenied to 502 LambdaAccessDenied).
func TestPolicyChangeReachesTargetGroup(t *testing.T) {
	const (
		region   = "us-east-1"
		account  = "123456789012"
		groupARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"
	)
	inv := albInvoker{}
	fns := []config.Function{{Name: "alb", Policy: []config.Statement{{Sid: "alb", Principal: config.ELBPrincipal,
		Action: "lambda:InvokeFunction", SourceARN: groupARN}}}}
	store, err := policy.Open(t.TempDir(), region, account, fns)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	api, err := invokeapi.New(invokeapi.Options{Invoker: inv, Policies: store, Region: region, AccountID: account})
	if err != nil {
		t.Fatal(err)
	}
	client := lambdaClient("http://" + serveAPI(t, api))
	groups, err := targetgroup.New(&config.Config{Region: region, AccountID: account, Functions: fns,
		TargetGroups: []config.TargetGroup{{Name: "web", ARN: groupARN, Function: "alb"}}},
		targetgroup.Options{Invoker: inv, Policies: store})
	if err != nil {
		t.Fatal(err)
	}
	g := groups["web"]
	forward := func() error {
		var req fasthttp.Request
		var resp fasthttp.Response
		req.SetRequestURI("http://example.com/")
		return g.Forward(context.Background(), &req, lambdaadapter.Conn{ListenerPort: 80, Scheme: "http"}, &resp)
	}
	call := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 10*time.Second)
	}

	steps := []struct {
		name   string
		change func() error
		denied bool
	}{
		{"config statement allows", func() error { return nil }, false},
		{"remove the ALB statement", func() error {
			ctx, cancel := call()
			defer cancel()
			_, err := client.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("alb"), StatementId: aws.String("alb")})
			return err
		}, true},
		{"add it back", func() error {
			ctx, cancel := call()
			defer cancel()
			_, err := client.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("alb"),
				StatementId: aws.String("alb-again"), Action: aws.String("lambda:InvokeFunction"),
				Principal: aws.String(config.ELBPrincipal), SourceArn: aws.String(groupARN)})
			return err
		}, false},
		{"a statement for another group does not help", func() error {
			ctx, cancel := call()
			defer cancel()
			if _, err := client.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("alb"), StatementId: aws.String("alb-again")}); err != nil {
				return err
			}
			_, err := client.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("alb"),
				StatementId: aws.String("other"), Action: aws.String("lambda:InvokeFunction"),
				Principal: aws.String(config.ELBPrincipal), SourceArn: aws.String(groupARN + "0")})
			return err
		}, true},
	}
	for _, st := range steps {
		if err := st.change(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		err := forward()
		if denied := errors.Is(err, targetgroup.ErrAccessDenied); denied != st.denied {
			t.Errorf("%s: forward error %v, denied=%v want %v", st.name, err, denied, st.denied)
		}
		if !st.denied && err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
	}
}
