package invokeapi

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

func TestPolicyAPI(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)

	got, err := env.client.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("echo")})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "policy_config.json", []byte(aws.ToString(got.Policy)))
	rev0 := aws.ToString(got.RevisionId)

	add, err := env.client.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String("echo"), StatementId: aws.String("s3-uploads"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"),
		SourceArn: aws.String("arn:aws:s3:::uploads"), SourceAccount: aws.String(testAccount),
		RevisionId: aws.String(rev0),
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "add_permission_statement.json", []byte(aws.ToString(add.Statement)))

	got, err = env.client.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("echo")})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "policy_after_add.json", []byte(aws.ToString(got.Policy)))
	if aws.ToString(got.RevisionId) == rev0 {
		t.Error("RevisionId unchanged by AddPermission")
	}
	if stmts, _ := env.store.Statements("echo"); len(stmts) != 2 {
		t.Errorf("store has %d statements", len(stmts))
	}

	// Removing the ALB statement takes effect in the store at once.
	if _, err := env.client.RemovePermission(ctx, &lambda.RemovePermissionInput{
		FunctionName: aws.String("echo"), StatementId: aws.String("alb")}); err != nil {
		t.Fatal(err)
	}
	stmts, _ := env.store.Statements("echo")
	if len(stmts) != 1 || stmts[0].Sid != "s3-uploads" {
		t.Errorf("after remove: %v", stmts)
	}
	if _, err := env.client.RemovePermission(ctx, &lambda.RemovePermissionInput{
		FunctionName: aws.String("echo"), StatementId: aws.String("s3-uploads")}); err != nil {
		t.Fatal(err)
	}
	_, err = env.client.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("echo")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.Message) != "The resource you requested does not exist." {
		t.Errorf("empty policy: %v", err)
	}
}

func TestPolicyAPIErrors(t *testing.T) {
	env := newTestEnv(t)
	add := func(sid, action, principal string) func() error {
		return func() error {
			_, err := env.client.AddPermission(testCtx(t), &lambda.AddPermissionInput{
				FunctionName: aws.String("echo"), StatementId: aws.String(sid),
				Action: aws.String(action), Principal: aws.String(principal)})
			return err
		}
	}
	tests := []struct {
		name     string
		call     func() error
		wantCode string
		typed    any
	}{
		{"duplicate sid", add("alb", "lambda:InvokeFunction", "elasticloadbalancing.amazonaws.com"),
			"ResourceConflictException", new(*types.ResourceConflictException)},
		{"bad sid", add("a b", "lambda:InvokeFunction", "s3.amazonaws.com"), "ValidationException", nil},
		{"partial wildcard action", add("x", "lambda:Invoke*", "s3.amazonaws.com"), "ValidationException", nil},
		{"unsupported member", func() error {
			_, err := env.client.AddPermission(testCtx(t), &lambda.AddPermissionInput{
				FunctionName: aws.String("echo"), StatementId: aws.String("org"), Action: aws.String("lambda:*"),
				Principal: aws.String("*"), PrincipalOrgID: aws.String("o-abcdefghij")})
			return err
		}, "InvalidParameterValueException", new(*types.InvalidParameterValueException)},
		{"stale revision", func() error {
			_, err := env.client.AddPermission(testCtx(t), &lambda.AddPermissionInput{
				FunctionName: aws.String("echo"), StatementId: aws.String("r"), Action: aws.String("lambda:*"),
				Principal: aws.String("s3.amazonaws.com"), RevisionId: aws.String("00000000-0000-4000-8000-000000000000")})
			return err
		}, "PreconditionFailedException", new(*types.PreconditionFailedException)},
		{"remove unknown sid", func() error {
			_, err := env.client.RemovePermission(testCtx(t), &lambda.RemovePermissionInput{
				FunctionName: aws.String("echo"), StatementId: aws.String("nope")})
			return err
		}, "ResourceNotFoundException", new(*types.ResourceNotFoundException)},
		{"unknown function", func() error {
			_, err := env.client.GetPolicy(testCtx(t), &lambda.GetPolicyInput{FunctionName: aws.String("nope")})
			return err
		}, "ResourceNotFoundException", nil},
		{"no policy", func() error {
			_, err := env.client.GetPolicy(testCtx(t), &lambda.GetPolicyInput{FunctionName: aws.String("fail")})
			return err
		}, "ResourceNotFoundException", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode {
				t.Fatalf("got %v, want %s", err, tt.wantCode)
			}
			if tt.typed != nil && !errors.As(err, tt.typed) {
				t.Errorf("%T is not %T", err, tt.typed)
			}
		})
	}
}
