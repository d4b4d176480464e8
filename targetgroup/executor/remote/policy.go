package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/albedo-lb/albedo/config"
)

// Policy reads the function's resource-based policy with GetPolicy (for
// the qualifier the function is invoked with) and returns the statements
// albedo's permission check can evaluate, plus a note for every statement
// it had to leave out. A function without a policy has no statements; a
// function the service does not know is an error wrapping
// executor.ErrFunctionNotFound.
func (c *Client) Policy(ctx context.Context) (stmts []config.Statement, skipped []string, err error) {
	ctx, cancel := context.WithTimeout(ctx, max(c.fn.Timeout, policyTimeout))
	defer cancel()
	out, err := c.api.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: &c.fn.Target})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) && !strings.HasPrefix(nf.ErrorMessage(), "Function not found") {
			return nil, nil, nil // the function exists and has no policy
		}
		return nil, nil, c.callError("GetPolicy", context.Background(), ctx, err)
	}
	if out.Policy == nil {
		return nil, nil, nil
	}
	resource := c.fn.ARN
	if c.fn.Endpoint != "" {
		resource = "" // the endpoint names the function its own way
	}
	stmts, skipped, err = ParsePolicy([]byte(*out.Policy), resource)
	if err != nil {
		return nil, nil, fmt.Errorf("remote: GetPolicy of %s (%s): %w", c.fn.Name, c.fn.Target, err)
	}
	return stmts, skipped, nil
}

// policyTimeout is the least time GetPolicy gets at start.
const policyTimeout = 10 * time.Second

// maxStatements bounds what one document expands to (lists of
// principals, actions and condition values multiply).
const maxStatements = 10000

// ErrPolicyDocument is a GetPolicy answer that is not a policy document.
var ErrPolicyDocument = errors.New("remote: invalid policy document")

// ParsePolicy turns a policy document as GetPolicy returns it into the
// Allow statements config.Allows evaluates, one per combination of
// principal, action, source ARN and source account the statement lists.
// resource is the invoked function's ARN: a statement whose Resource does
// not cover it (another qualifier) grants nothing; "" skips that check.
//
// IAM's evaluation is followed where albedo's statements can express it,
// and otherwise the statement is left out (it then allows nothing: the
// check fails closed) with a note in skipped: a Deny statement, a
// principal that is not a service or "*", a condition other than
// ArnLike/StringLike/ArnEquals/StringEquals on aws:SourceArn and
// StringEquals on aws:SourceAccount. A "*" principal counts as
// elasticloadbalancing.amazonaws.com (it lets anyone invoke). Condition
// keys are case-insensitive; Equals values are matched as globs too.
func ParsePolicy(doc []byte, resource string) (stmts []config.Statement, skipped []string, err error) {
	var d struct {
		Statement oneOrMany[policyStatement] `json:"Statement"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrPolicyDocument, err)
	}
	for i, s := range d.Statement {
		name := s.Sid
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		out, why := s.statements(resource)
		if why != "" {
			skipped = append(skipped, "statement "+name+": "+why)
			continue
		}
		if len(stmts)+len(out) > maxStatements {
			return nil, nil, fmt.Errorf("%w: expands to more than %d statements", ErrPolicyDocument, maxStatements)
		}
		stmts = append(stmts, out...)
	}
	return stmts, skipped, nil
}

// policyStatement is one statement of an IAM policy document.
type policyStatement struct {
	Sid       string                                  `json:"Sid"`
	Effect    string                                  `json:"Effect"`
	Principal json.RawMessage                         `json:"Principal"`
	Action    oneOrMany[string]                       `json:"Action"`
	Resource  oneOrMany[string]                       `json:"Resource"`
	Condition map[string]map[string]oneOrMany[string] `json:"Condition"`
}

// statements expands s, or says why it can't be evaluated.
func (s policyStatement) statements(resource string) ([]config.Statement, string) {
	if s.Effect != "Allow" {
		return nil, "effect " + s.Effect + " is not evaluated (Lambda policies hold only Allow statements)"
	}
	principals, why := servicePrincipals(s.Principal)
	if why != "" {
		return nil, why
	}
	if resource != "" && len(s.Resource) > 0 && !anyGlob(s.Resource, resource) {
		return nil, "resource " + strings.Join(s.Resource, ", ") + " does not cover " + resource
	}
	arns, accounts := []string{""}, []string{""}
	for op, keys := range s.Condition {
		for key, vals := range keys {
			switch k := strings.ToLower(key); {
			case k == "aws:sourcearn" && (op == "ArnLike" || op == "StringLike" || op == "ArnEquals" || op == "StringEquals"):
				if arns[0] != "" {
					return nil, "more than one aws:SourceArn condition"
				}
				arns = vals
			case k == "aws:sourceaccount" && op == "StringEquals":
				if accounts[0] != "" {
					return nil, "more than one aws:SourceAccount condition"
				}
				accounts = vals
			default:
				return nil, "condition " + op + " on " + key + " is not evaluated"
			}
		}
	}
	if len(arns) == 0 || len(accounts) == 0 {
		return nil, "a condition with no values"
	}
	var out []config.Statement
	for _, p := range principals {
		for _, a := range s.Action {
			for _, arn := range arns {
				for _, acct := range accounts {
					if len(out) == maxStatements {
						return nil, fmt.Sprintf("expands to more than %d statements", maxStatements)
					}
					out = append(out, config.Statement{Sid: s.Sid, Principal: p, Action: a, SourceARN: arn, SourceAccount: acct})
				}
			}
		}
	}
	return out, ""
}

// servicePrincipals reads "*", {"Service": x|[x…]} or {"AWS": "*"}.
func servicePrincipals(raw json.RawMessage) ([]string, string) {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star == "*" {
			return []string{config.ELBPrincipal}, ""
		}
		return nil, "principal " + star + " is not evaluated"
	}
	var m map[string]oneOrMany[string]
	if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
		return nil, "principal " + string(raw) + " is not evaluated"
	}
	var out []string
	for k, vals := range m {
		switch {
		case k == "Service":
			out = append(out, vals...)
		case k == "AWS" && len(vals) == 1 && vals[0] == "*":
			out = append(out, config.ELBPrincipal)
		}
	}
	if len(out) == 0 {
		return nil, "principal " + string(raw) + " names no service"
	}
	return out, ""
}

func anyGlob(patterns []string, s string) bool {
	for _, p := range patterns {
		if g := config.CompileGlob(p, 0); p == "*" || g.MatchString(s) {
			return true
		}
	}
	return false
}

// oneOrMany is a policy field written as one value or a list of them.
type oneOrMany[T any] []T

func (o *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '[' {
		var many []T
		if err := json.Unmarshal(b, &many); err != nil {
			return err
		}
		*o = many
		return nil
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*o = oneOrMany[T]{one}
	return nil
}
