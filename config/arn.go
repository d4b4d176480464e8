package config

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// TargetGroupID is the 16 lower-case hex digit id of a target group's ARN:
// the first 8 bytes of sha256(lb + "/" + name). AWS assigns a random id at
// creation; deriving it from the names keeps ARNs (and so policy
// statements that quote them) stable across restarts and machines.
func TargetGroupID(lb, name string) string {
	sum := sha256.Sum256([]byte(lb + "/" + name))
	return hex.EncodeToString(sum[:8])
}

// TargetGroupARN is
// arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}/{id}.
func TargetGroupARN(region, account, lb, name string) string {
	return "arn:aws:elasticloadbalancing:" + region + ":" + account + ":targetgroup/" + name + "/" + TargetGroupID(lb, name)
}

// LoadBalancerID is the 16 lower-case hex digit id of the load balancer: the
// first 8 bytes of sha256("app/" + lb).
func LoadBalancerID(lb string) string {
	sum := sha256.Sum256([]byte("app/" + lb))
	return hex.EncodeToString(sum[:8])
}

// LoadBalancerName is the load balancer as access logs and metrics name it:
// app/{lb}/{id}.
func LoadBalancerName(lb string) string {
	return "app/" + lb + "/" + LoadBalancerID(lb)
}

// LoadBalancerARN is
// arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{lb}/{id}.
func LoadBalancerARN(region, account, lb string) string {
	return "arn:aws:elasticloadbalancing:" + region + ":" + account + ":loadbalancer/" + LoadBalancerName(lb)
}

// FunctionARN is arn:aws:lambda:{region}:{account}:function:{name}.
func FunctionARN(region, account, name string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + name
}

// splitFunctionARN splits arn:{partition}:lambda:{region}:{account}:function:{name}[:{qualifier}].
func splitFunctionARN(arn string) (region, account, name, qualifier string, ok bool) {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || len(parts) > 8 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function" {
		return "", "", "", "", false
	}
	if len(parts) == 8 {
		qualifier = parts[7]
	}
	return parts[3], parts[4], parts[6], qualifier, true
}
