package policy

import (
	"encoding/json"
	"strings"

	"github.com/albedo-lb/albedo/config"
)

// policyDoc is a function policy in AWS's JSON shape, as GetPolicy returns
// it (https://docs.aws.amazon.com/lambda/latest/api/API_GetPolicy.html; statements as in
// https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html).
type policyDoc struct {
	Version   string            `json:"Version"`
	ID        string            `json:"Id"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid       string     `json:"Sid"`
	Effect    string     `json:"Effect"`
	Principal any        `json:"Principal"`
	Action    string     `json:"Action"`
	Resource  string     `json:"Resource"`
	Condition *condition `json:"Condition,omitempty"`
}

type condition struct {
	StringEquals map[string]string `json:"StringEquals,omitempty"`
	ArnLike      map[string]string `json:"ArnLike,omitempty"`
}

// principal renders a statement's principal as Lambda stores it: a service
// ("s3.amazonaws.com") as {"Service":…}, an account id as
// {"AWS":"arn:aws:iam::ACCOUNT:root"}, an ARN as {"AWS":…}, "*" as "*".
func principal(p string) any {
	switch {
	case p == "*":
		return "*"
	case IsAccountID(p):
		return map[string]string{"AWS": "arn:aws:iam::" + p + ":root"}
	case strings.HasPrefix(p, "arn:"):
		return map[string]string{"AWS": p}
	}
	return map[string]string{"Service": p}
}

func toPolicyStatement(arn string, st config.Statement) policyStatement {
	ps := policyStatement{
		Sid:       st.Sid,
		Effect:    "Allow",
		Principal: principal(st.Principal),
		Action:    st.Action,
		Resource:  arn,
	}
	if st.SourceAccount != "" || st.SourceARN != "" {
		ps.Condition = &condition{}
		if st.SourceAccount != "" {
			ps.Condition.StringEquals = map[string]string{"AWS:SourceAccount": st.SourceAccount}
		}
		if st.SourceARN != "" {
			ps.Condition.ArnLike = map[string]string{"AWS:SourceArn": st.SourceARN}
		}
	}
	return ps
}

// MaxDocumentSize is Lambda's limit on a function policy document, 20 KB.
const MaxDocumentSize = 20 * 1024

// Document renders stmts of the function arn as the document GetPolicy
// returns.
func Document(arn string, stmts []config.Statement) []byte {
	d := policyDoc{Version: "2012-10-17", ID: "default", Statement: make([]policyStatement, len(stmts))}
	for i, st := range stmts {
		d.Statement[i] = toPolicyStatement(arn, st)
	}
	b, _ := json.Marshal(d) // strings and maps of strings: cannot fail
	return b
}

// StatementJSON renders one statement as AddPermission returns it.
func StatementJSON(arn string, st config.Statement) []byte {
	b, _ := json.Marshal(toPolicyStatement(arn, st))
	return b
}

// IsAccountID reports whether s is an AWS account id, \d{12}: the form of
// a principal Lambda renders as an IAM root ARN and of SourceAccount.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
