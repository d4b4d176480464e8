package remote

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

const (
	fnARN = "arn:aws:lambda:eu-west-1:111122223333:function:api:live"
	tgARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/2d2b5e1ddaf194a3"
)

func TestParsePolicy(t *testing.T) {
	elb := config.ELBPrincipal
	tests := []struct {
		name        string
		doc         string
		resource    string
		want        []config.Statement
		wantSkipped string
	}{
		{name: "as Lambda stores add-permission",
			doc: `{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"elb","Effect":"Allow","Principal":{"Service":"elasticloadbalancing.amazonaws.com"},
				"Action":"lambda:InvokeFunction","Resource":"` + fnARN + `","Condition":{"ArnLike":{"AWS:SourceArn":"` + tgARN + `"},"StringEquals":{"AWS:SourceAccount":"123456789012"}}}]}`,
			resource: fnARN,
			want:     []config.Statement{{Sid: "elb", Principal: elb, Action: "lambda:InvokeFunction", SourceARN: tgARN, SourceAccount: "123456789012"}}},
		{name: "lists expand; key case ignored",
			doc: `{"Statement":[{"Sid":"s","Effect":"Allow","Principal":{"Service":["elasticloadbalancing.amazonaws.com","s3.amazonaws.com"]},
				"Action":["lambda:InvokeFunction"],"Resource":["*"],"Condition":{"StringLike":{"aws:sourcearn":["a","b"]}}}]}`,
			resource: fnARN,
			want: []config.Statement{
				{Sid: "s", Principal: elb, Action: "lambda:InvokeFunction", SourceARN: "a"},
				{Sid: "s", Principal: elb, Action: "lambda:InvokeFunction", SourceARN: "b"},
				{Sid: "s", Principal: "s3.amazonaws.com", Action: "lambda:InvokeFunction", SourceARN: "a"},
				{Sid: "s", Principal: "s3.amazonaws.com", Action: "lambda:InvokeFunction", SourceARN: "b"},
			}},
		{name: "single statement object, star principal",
			doc:      `{"Statement":{"Effect":"Allow","Principal":"*","Action":"lambda:*"}}`,
			resource: fnARN,
			want:     []config.Statement{{Principal: elb, Action: "lambda:*"}}},
		{name: "another qualifier grants nothing",
			doc:         `{"Statement":[{"Sid":"old","Effect":"Allow","Principal":{"Service":"elasticloadbalancing.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:eu-west-1:111122223333:function:api:v1"}]}`,
			resource:    fnARN,
			wantSkipped: "statement old: resource arn:aws:lambda:eu-west-1:111122223333:function:api:v1 does not cover " + fnARN},
		{name: "resource not checked for endpoint functions",
			doc:  `{"Statement":[{"Sid":"x","Effect":"Allow","Principal":{"Service":"elasticloadbalancing.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:function"}]}`,
			want: []config.Statement{{Sid: "x", Principal: elb, Action: "lambda:InvokeFunction"}}},
		{name: "unknown condition fails closed",
			doc:         `{"Statement":[{"Sid":"org","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`,
			wantSkipped: "statement org: condition StringEquals on aws:PrincipalOrgID is not evaluated"},
		{name: "account principal",
			doc:         `{"Statement":[{"Sid":"acct","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"lambda:InvokeFunction"}]}`,
			wantSkipped: "statement acct: principal {\"AWS\":\"arn:aws:iam::111122223333:root\"} names no service"},
		{name: "deny",
			doc:         `{"Statement":[{"Sid":"d","Effect":"Deny","Principal":"*","Action":"*"}]}`,
			wantSkipped: "statement d: effect Deny is not evaluated"},
		{name: "empty", doc: `{"Version":"2012-10-17","Statement":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skipped, err := ParsePolicy([]byte(tt.doc), tt.resource)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("statements\ngot  %+v\nwant %+v", got, tt.want)
			}
			if s := strings.Join(skipped, "\n"); !strings.HasPrefix(s, tt.wantSkipped) || (tt.wantSkipped == "") != (s == "") {
				t.Errorf("skipped %q, want %q", s, tt.wantSkipped)
			}
		})
	}
}

func TestParsePolicyInvalid(t *testing.T) {
	for _, doc := range []string{``, `[`, `{"Statement":"x"}`, `{"Statement":[{"Action":{"a":1}}]}`} {
		if _, _, err := ParsePolicy([]byte(doc), ""); err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
}

// FuzzParsePolicy: any document either fails with an error or gives
// statements with a principal and an action, and never panics.
func FuzzParsePolicy(f *testing.F) {
	f.Add(`{"Statement":[{"Sid":"elb","Effect":"Allow","Principal":{"Service":"elasticloadbalancing.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + fnARN + `","Condition":{"ArnLike":{"AWS:SourceArn":"` + tgARN + `"}}}]}`)
	f.Add(`{"Statement":{"Effect":"Allow","Principal":"*","Action":["lambda:*","*"],"Condition":{"StringEquals":{"AWS:SourceAccount":["1","2"]}}}}`)
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"x","Resource":["a*","b?"]}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		stmts, _, err := ParsePolicy([]byte(doc), fnARN)
		if err != nil {
			return
		}
		if !json.Valid([]byte(doc)) {
			t.Fatalf("invalid JSON %q accepted", doc)
		}
		for _, s := range stmts {
			if s.Principal == "" && s.Action == "" {
				t.Fatalf("empty statement from %q", doc)
			}
		}
	})
}
