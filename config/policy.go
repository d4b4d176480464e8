package config

import (
	"fmt"
	"strconv"
)

// ELBPrincipal is the service principal ALB invokes Lambda functions as.
const ELBPrincipal = "elasticloadbalancing.amazonaws.com"

// InvokeAction is the action a balancer or Invoke API call needs.
const InvokeAction = "lambda:InvokeFunction"

// Allows reports whether one of the Allow statements grants principal the
// action with the given source ARN and account. It is the single policy
// evaluation albedo has: validation runs it for every target group, and the
// request path reuses it when a policy changes at run time.
//
// A statement matches when its Principal equals principal exactly; its
// Action is action, "lambda:*" (for a lambda: action) or "*"; its SourceARN
// is empty or a case-sensitive whole-string Glob ("*" any run, "?" one
// byte) matching sourceARN (Lambda's ArnLike/StringLike condition); and its
// SourceAccount is empty or equals sourceAccount. Function policies hold
// only Allow statements, so the first match decides.
func Allows(stmts []Statement, principal, action, sourceARN, sourceAccount string) bool {
	for i := range stmts {
		s := &stmts[i]
		if s.Principal != principal || !actionMatches(s.Action, action) {
			continue
		}
		if s.SourceARN != "" {
			// Compiled per evaluation: Allows runs at validation and when
			// a policy changes, not per request.
			if g := CompileGlob(s.SourceARN, 0); !g.MatchString(sourceARN) {
				continue
			}
		}
		if s.SourceAccount != "" && s.SourceAccount != sourceAccount {
			continue
		}
		return true
	}
	return false
}

func actionMatches(pattern, action string) bool {
	switch {
	case pattern == "*", pattern == action:
		return true
	case pattern == "lambda:*":
		return len(action) > len("lambda:") && action[:len("lambda:")] == "lambda:"
	}
	return false
}

// PermissionError is AWS's RegisterTargets AccessDenied message for a
// function whose policy does not let the group invoke it.
func PermissionError(functionARN, targetGroupARN string) string {
	return "elasticloadbalancing principal does not have permission to invoke " + functionARN + " from target group " + targetGroupARN
}

// SuggestedStatement is the policy statement to paste under fn's "policy:"
// to let tg invoke it, as one YAML flow-style list item so that it fits on
// the line of a validation error.
func SuggestedStatement(tg TargetGroup, fn Function, cfg *Config) string {
	arn := tg.ARN
	if arn == "" {
		arn = TargetGroupARN(cfg.Region, cfg.AccountID, cfg.LoadBalancer, tg.Name)
	}
	sid := "elb-" + tg.Name
	for n := 2; sidUsed(fn.Policy, sid); n++ {
		sid = "elb-" + tg.Name + "-" + strconv.Itoa(n)
	}
	return fmt.Sprintf("- {sid: %s, principal: %s, action: %s, source_arn: %q, source_account: %q}",
		sid, ELBPrincipal, InvokeAction, arn, cfg.AccountID)
}

func sidUsed(stmts []Statement, sid string) bool {
	for _, s := range stmts {
		if s.Sid == sid {
			return true
		}
	}
	return false
}
