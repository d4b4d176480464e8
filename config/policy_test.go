package config_test

import (
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/config"
	"gopkg.in/yaml.v3"
)

const (
	tgARN   = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/0123456789abcdef"
	account = "123456789012"
)

func TestAllows(t *testing.T) {
	t.Parallel()
	elb := func(action, arn, acct string) config.Statement {
		return config.Statement{Sid: "s", Principal: config.ELBPrincipal, Action: action, SourceARN: arn, SourceAccount: acct}
	}
	tests := []struct {
		name  string
		stmts []config.Statement
		want  bool
	}{
		{"no statements", nil, false},
		{"exact", []config.Statement{elb("lambda:InvokeFunction", tgARN, account)}, true},
		{"no conditions", []config.Statement{elb("lambda:InvokeFunction", "", "")}, true},
		{"lambda star", []config.Statement{elb("lambda:*", "", "")}, true},
		{"star", []config.Statement{elb("*", "", "")}, true},
		{"other action", []config.Statement{elb("lambda:GetFunction", "", "")}, false},
		{"partial action wildcard", []config.Statement{elb("lambda:Invoke*", "", "")}, false},
		{"action case", []config.Statement{elb("lambda:invokefunction", "", "")}, false},
		{"glob star", []config.Statement{elb("lambda:InvokeFunction", "arn:aws:elasticloadbalancing:*:123456789012:targetgroup/api/*", "")}, true},
		{"glob question", []config.Statement{elb("lambda:InvokeFunction", "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/ap?/*", "")}, true},
		{"glob other group", []config.Statement{elb("lambda:InvokeFunction", "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/*", "")}, false},
		{"glob prefix only", []config.Statement{elb("lambda:InvokeFunction", "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api", "")}, false},
		{"glob case-sensitive", []config.Statement{elb("lambda:InvokeFunction", strings.ToUpper(tgARN), "")}, false},
		{"other account", []config.Statement{elb("lambda:InvokeFunction", "", "210987654321")}, false},
		{"other principal", []config.Statement{{Sid: "s", Principal: "s3.amazonaws.com", Action: "*"}}, false},
		{"principal star not special", []config.Statement{{Sid: "s", Principal: "*", Action: "*"}}, false},
		{"second statement matches", []config.Statement{elb("lambda:GetPolicy", "", ""), elb("lambda:InvokeFunction", "", account)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := config.Allows(tt.stmts, config.ELBPrincipal, config.InvokeAction, tgARN, account); got != tt.want {
				t.Errorf("Allows = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPermissionError(t *testing.T) {
	t.Parallel()
	got := config.PermissionError("arn:aws:lambda:us-east-1:123456789012:function:f", tgARN)
	want := "elasticloadbalancing principal does not have permission to invoke arn:aws:lambda:us-east-1:123456789012:function:f from target group " + tgARN
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestSuggestedStatement checks that the suggestion is valid YAML which,
// added to the policy, makes Allows grant the group.
func TestSuggestedStatement(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	tg := *cfg.TargetGroupByName("echo")
	fn := *cfg.FunctionByName("echo")
	fn.Policy = []config.Statement{{Sid: "elb-echo", Principal: "s3.amazonaws.com", Action: "*"}}
	s := config.SuggestedStatement(tg, fn, cfg)
	var stmts []config.Statement
	if err := yaml.Unmarshal([]byte(s), &stmts); err != nil {
		t.Fatalf("suggestion %q is not YAML: %v", s, err)
	}
	if len(stmts) != 1 || stmts[0].Sid != "elb-echo-2" {
		t.Fatalf("suggestion %q: want one statement with a fresh sid, got %+v", s, stmts)
	}
	if !config.Allows(stmts, config.ELBPrincipal, config.InvokeAction, tg.ARN, cfg.AccountID) {
		t.Errorf("suggestion %q does not allow %s", s, tg.ARN)
	}
}
