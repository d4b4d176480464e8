package invokeapi

import (
	"encoding/json"
	"strings"

	"github.com/albedo-lb/albedo/config"
)

// policyDoc is a function policy in AWS's JSON shape (lambda.md §7).
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
	case isAccount(p):
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

// policyDocument renders stmts as the document GetPolicy returns.
func policyDocument(arn string, stmts []config.Statement) []byte {
	d := policyDoc{Version: "2012-10-17", ID: "default", Statement: make([]policyStatement, len(stmts))}
	for i, st := range stmts {
		d.Statement[i] = toPolicyStatement(arn, st)
	}
	b, _ := json.Marshal(d) // strings and maps of strings: cannot fail
	return b
}

// statementJSON renders one statement as AddPermission returns it.
func statementJSON(arn string, st config.Statement) []byte {
	b, _ := json.Marshal(toPolicyStatement(arn, st))
	return b
}
