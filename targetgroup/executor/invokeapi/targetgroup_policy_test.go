package invokeapi

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/lambdaadapter"
	"github.com/albedo-lb/albedo/targetgroup"
)

var _ targetgroup.Policies = (*PolicyStore)(nil)

// TestPolicyChangeReachesTargetGroup: a target group reading its
// permission from the PolicyStore is denied on the first request after
// RemovePermission and allowed again after AddPermission (the balancer
// maps targetgroup.ErrAccessDenied to 502 LambdaAccessDenied).
func TestPolicyChangeReachesTargetGroup(t *testing.T) {
	const groupARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"
	inv := newFakeInvoker("alb")
	fns := []config.Function{{Name: "alb", Policy: []config.Statement{{Sid: "alb", Principal: config.ELBPrincipal,
		Action: "lambda:InvokeFunction", SourceARN: groupARN}}}}
	store, err := OpenPolicyStore(t.TempDir(), testRegion, testAccount, fns)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	api, err := New(Options{Invoker: inv, Policies: store, Region: testRegion, AccountID: testAccount})
	if err != nil {
		t.Fatal(err)
	}
	client := newClient("http://"+serve(t, api), testKeyID, testSecret)
	groups, err := targetgroup.New(&config.Config{Region: testRegion, AccountID: testAccount, Functions: fns,
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
		return g.Forward(context.Background(), &req, testConn(), &resp)
	}

	steps := []struct {
		name   string
		change func() error
		denied bool
	}{
		{"config statement allows", func() error { return nil }, false},
		{"remove the ALB statement", func() error {
			_, err := client.RemovePermission(testCtx(t), &lambda.RemovePermissionInput{FunctionName: aws.String("alb"), StatementId: aws.String("alb")})
			return err
		}, true},
		{"add it back", func() error {
			_, err := client.AddPermission(testCtx(t), &lambda.AddPermissionInput{FunctionName: aws.String("alb"),
				StatementId: aws.String("alb-again"), Action: aws.String("lambda:InvokeFunction"),
				Principal: aws.String(config.ELBPrincipal), SourceArn: aws.String(groupARN)})
			return err
		}, false},
		{"a statement for another group does not help", func() error {
			if _, err := client.RemovePermission(testCtx(t), &lambda.RemovePermissionInput{FunctionName: aws.String("alb"), StatementId: aws.String("alb-again")}); err != nil {
				return err
			}
			_, err := client.AddPermission(testCtx(t), &lambda.AddPermissionInput{FunctionName: aws.String("alb"),
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

func testConn() lambdaadapter.Conn { return lambdaadapter.Conn{ListenerPort: 80, Scheme: "http"} }
