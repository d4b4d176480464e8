package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

const remoteConfig = `listeners:
  - port: 8080
    default_action:
      forward:
        target_groups: [{name: aws, weight: 1}, {name: rie, weight: 1}, {name: peer, weight: 1}]
target_groups:
  - name: aws
    targets: ["arn:aws:lambda:eu-west-1:111122223333:function:api:live"]
  - name: rie
    targets: [rie-api]
  - name: peer
    targets: [peer]
functions:
  - name: prod-api
    arn: arn:aws:lambda:eu-west-1:111122223333:function:api:live
    timeout: 30
    policy_source: aws
  - name: rie-api
    endpoint: http://127.0.0.1:9000
    function_name: function
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: lambda:InvokeFunction}
  - name: peer
    endpoint: https://peer.example.com:8443
    function_name: arn:aws:lambda:us-west-2:444455556666:function:peer
    credentials: {access_key_id: AKID, secret_access_key: secret}
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: lambda:InvokeFunction}
`

func TestRemoteFunctions(t *testing.T) {
	cfg, err := config.Parse([]byte(remoteConfig), "remote.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prod, rie, peer := cfg.FunctionByName("prod-api"), cfg.FunctionByName("rie-api"), cfg.FunctionByName("peer")
	tests := []struct {
		name      string
		got, want any
	}{
		{"arn function's ARN is its own", prod.ARN, "arn:aws:lambda:eu-west-1:111122223333:function:api:live"},
		{"arn function is remote", prod.Remote(), true},
		{"timeout kept", prod.Timeout, 30},
		{"policy_source written", prod.PolicySource, "aws"},
		{"target by remote ARN", cfg.TargetGroupByName("aws").Function, "prod-api"},
		{"endpoint function's ARN is the local form", rie.ARN, "arn:aws:lambda:us-east-1:123456789012:function:rie-api"},
		{"policy_source default", rie.PolicySource, "config"},
		{"timeout default", rie.Timeout, 3},
		{"function_name given", rie.FunctionName, "function"},
		{"endpoint function named by an ARN shows it", peer.ARN, "arn:aws:lambda:us-west-2:444455556666:function:peer"},
		{"credentials", peer.Credentials.AccessKeyID, "AKID"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestRemoteFunctionNameDefault(t *testing.T) {
	cfg, err := config.Parse([]byte("functions:\n  - name: fn\n    endpoint: http://127.0.0.1:9000\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Functions[0].FunctionName; got != "fn" {
		t.Errorf("function_name = %q, want the function's name", got)
	}
}

func TestCheckPolicies(t *testing.T) {
	cfg, err := config.Parse([]byte(remoteConfig), "remote.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tgARN := cfg.TargetGroupByName("aws").ARN
	tests := []struct {
		name    string
		stmts   []config.Statement
		wantErr string
	}{
		{"allowed for the group", []config.Statement{{Sid: "elb", Principal: config.ELBPrincipal, Action: config.InvokeAction, SourceARN: tgARN}}, ""},
		{"allowed for any source", []config.Statement{{Sid: "elb", Principal: config.ELBPrincipal, Action: "lambda:*"}}, ""},
		{"no policy", nil,
			"remote.yaml:8:15: target_groups[0].targets[0]: elasticloadbalancing principal does not have permission to invoke arn:aws:lambda:eu-west-1:111122223333:function:api:live from target group " + tgARN +
				"; the function's policy (policy_source: aws) must allow it: aws lambda add-permission --function-name arn:aws:lambda:eu-west-1:111122223333:function:api:live --statement-id elb-aws" +
				" --principal elasticloadbalancing.amazonaws.com --action lambda:InvokeFunction --source-arn " + tgARN + " --source-account 123456789012"},
		{"another group's ARN", []config.Statement{{Sid: "elb", Principal: config.ELBPrincipal, Action: config.InvokeAction, SourceARN: tgARN + "x"}}, "does not have permission"},
		{"another account", []config.Statement{{Sid: "elb", Principal: config.ELBPrincipal, Action: config.InvokeAction, SourceAccount: "999999999999"}}, "does not have permission"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cfg.CheckPolicies(map[string][]config.Statement{"prod-api": tt.stmts})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr == "":
				return
			case err == nil:
				t.Fatalf("no error, want %q", tt.wantErr)
			case !errors.Is(err, config.ErrInvalid):
				t.Errorf("%v does not match ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error\n%v\nwant it to contain\n%s", err, tt.wantErr)
			}
		})
	}
}
