package config

import (
	"net/url"
	"strconv"
	"strings"
)

var (
	// remoteARNRE is an AWS Lambda function ARN, optionally qualified
	// with a version or alias (Lambda's FunctionName and Qualifier
	// patterns: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_RequestParameters).
	remoteARNRE = lazyRegexp(`^arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-[0-9]:[0-9]{12}:function:[a-zA-Z0-9_-]{1,64}(:(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$`)
	// invokeNameRE is Lambda's FunctionName pattern: name, name:qualifier,
	// partial or full ARN.
	invokeNameRE = lazyRegexp(`^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-[0-9]:)?([0-9]{12}:)?(function:)?([a-zA-Z0-9_.-]+)(:(\$LATEST|[a-zA-Z0-9_-]+))?$`)
)

// localOnly are the fields that describe how albedo runs a local function;
// remoteOnly those that describe how it reaches a remote one.
var (
	localOnly  = []string{"runtime", "handler", "code", "layers", "build", "memory_size", "reserved_concurrency", "environment", "cpu_model"}
	remoteOnly = []string{"function_name", "credentials", "region", "policy_source"}
)

// remoteFunction validates what makes functions[i] remote and reports
// whether it is: a written arn or endpoint. The fields of the other kind
// are refused, not validated: one mistake, one message.
func (v *validator) remoteFunction(f *Function, p string) bool {
	arnSet, epSet := v.d.isSet(p+".arn"), v.d.isSet(p+".endpoint")
	if !arnSet && !epSet {
		for _, k := range remoteOnly {
			if v.d.isSet(p + "." + k) {
				v.errorf(p+"."+k, "only for remote functions (with arn or endpoint); a function with runtime runs locally")
			}
		}
		return false
	}
	kind := "arn"
	if !arnSet {
		kind = "endpoint"
	}
	if arnSet && epSet {
		v.errorf(p+".endpoint", "a function has either arn (AWS Lambda) or endpoint (any Lambda Invoke API), not both")
	}
	for _, k := range localOnly {
		if v.d.isSet(p + "." + k) {
			v.errorf(p+"."+k, "only for local functions: this function is remote (%s), albedo invokes it and does not run it", kind)
		}
	}
	if arnSet {
		if !remoteARNRE().MatchString(f.RemoteARN) {
			v.errorf(p+".arn", "invalid Lambda function ARN %q: want arn:aws:lambda:REGION:ACCOUNT:function:NAME, optionally with :ALIAS or :VERSION", f.RemoteARN)
		}
		for _, k := range []string{"function_name", "credentials", "region"} {
			if v.d.isSet(p + "." + k) {
				v.errorf(p+"."+k, "only for endpoint functions: an arn function is named by its ARN and signed with the AWS SDK's default credentials (environment, shared files, SSO, instance or container role)")
			}
		}
	} else {
		v.endpoint(f, p)
	}
	switch f.PolicySource {
	case PolicySourceConfig:
	case PolicySourceAWS:
		if v.d.isSet(p + ".policy") {
			v.errorf(p+".policy", "with policy_source: aws the policy is the function's own, read from the Lambda service at start (GetPolicy); remove policy or set policy_source: config")
		}
	default:
		v.errorf(p+".policy_source", "must be config (the policy in this file) or aws (the function's policy, read at start with GetPolicy), got %q", f.PolicySource)
	}
	return true
}

// endpoint validates an endpoint function's URL, name and credentials.
func (v *validator) endpoint(f *Function, p string) {
	u, err := url.Parse(f.Endpoint)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
		v.errorf(p+".endpoint", "invalid endpoint %q: want the base URL of a Lambda Invoke API, http(s)://HOST[:PORT]", f.Endpoint)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(f.Endpoint, "?"):
		v.errorf(p+".endpoint", "invalid endpoint %q: no user, query or fragment allowed", f.Endpoint)
	case u.Port() != "":
		if n, err := strconv.Atoi(u.Port()); err != nil || n < 1 || n > 65535 {
			v.errorf(p+".endpoint", "invalid endpoint %q: port must be 1-65535", f.Endpoint)
		}
	}
	if n := f.FunctionName; len(n) > 170 || !invokeNameRE().MatchString(n) {
		v.errorf(p+".function_name", "invalid function name %q: want a name, name:QUALIFIER or a function ARN (at most 170 characters)", n)
	}
	if v.d.isSet(p + ".region") {
		if !regionRE().MatchString(f.Region) {
			v.errorf(p+".region", "invalid region %q: want an AWS region name such as eu-west-1", f.Region)
		} else if parts := strings.Split(f.FunctionName, ":"); len(parts) >= 4 && parts[0] == "arn" && parts[3] != "" && parts[3] != f.Region {
			v.errorf(p+".region", "%q differs from the region of function_name's ARN (%s): calls are signed for the function's own region", f.Region, parts[3])
		}
	}
	if c := f.Credentials; c != nil {
		if c.AccessKeyID == "" {
			v.errorf(p+".credentials.access_key_id", "required when credentials are set")
		}
		if c.SecretAccessKey == "" {
			v.errorf(p+".credentials.secret_access_key", "required when credentials are set")
		}
	}
}

// functionARN is fn's ARN as albedo shows it (see Function.ARN).
func functionARN(c *Config, fn *Function) string {
	switch {
	case fn.RemoteARN != "":
		return fn.RemoteARN
	case fn.Endpoint != "" && strings.HasPrefix(fn.FunctionName, "arn:"):
		return fn.FunctionName
	}
	return FunctionARN(c.Region, c.AccountID, fn.Name)
}

// remoteIndex is the index of the remote function whose ARN is exactly arn,
// or -1: a target may name a remote function by its own ARN, whatever its
// region, account and qualifier.
func (c *Config) remoteIndex(arn string) int {
	for i := range c.Functions {
		if f := &c.Functions[i]; f.Remote() && functionARN(c, f) == arn {
			return i
		}
	}
	return -1
}

// CheckPolicies runs the invoke-permission check of every target group
// whose function's statements are in policies (the functions with
// policy_source: aws, whose policy albedo reads from the Lambda service at
// start): the check `albedo validate` makes with the file's statements,
// refusing what AWS would refuse when the target is registered, with the
// same message. It returns nil or Errors positioned at the targets.
func (c *Config) CheckPolicies(policies map[string][]Statement) error {
	var errs Errors
	for i := range c.TargetGroups {
		g := &c.TargetGroups[i]
		stmts, ok := policies[g.Function]
		fn := c.FunctionByName(g.Function)
		if !ok || fn == nil || Allows(stmts, ELBPrincipal, InvokeAction, g.ARN, c.AccountID) {
			continue
		}
		errs = append(errs, c.ErrorAt(indexPath("target_groups", i)+".targets[0]", "%s",
			PermissionError(fn.ARN, g.ARN)+"; the function's policy (policy_source: aws) must allow it: "+AddPermissionCommand(*g, *fn, c)))
	}
	if len(errs) == 0 {
		return nil
	}
	errs.sort()
	return errs
}

// AddPermissionCommand is the AWS CLI command that lets tg invoke the
// remote function fn (for an endpoint function, at its endpoint).
func AddPermissionCommand(tg TargetGroup, fn Function, cfg *Config) string {
	arn := tg.ARN
	if arn == "" {
		arn = TargetGroupARN(cfg.Region, cfg.AccountID, cfg.LoadBalancer, tg.Name)
	}
	name := fn.RemoteARN
	endpoint := ""
	if name == "" {
		name, endpoint = fn.FunctionName, " --endpoint-url "+fn.Endpoint
	}
	return "aws lambda add-permission" + endpoint + " --function-name " + name + " --statement-id elb-" + tg.Name +
		" --principal " + ELBPrincipal + " --action " + InvokeAction + " --source-arn " + arn + " --source-account " + cfg.AccountID
}
