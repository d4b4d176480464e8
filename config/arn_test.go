package config_test

import (
	"regexp"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

func TestARNs(t *testing.T) {
	t.Parallel()
	hex16 := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, id := range []string{config.TargetGroupID("albedo", "api"), config.LoadBalancerID("albedo")} {
		if !hex16.MatchString(id) {
			t.Errorf("id %q is not 16 lower-case hex digits", id)
		}
	}
	tests := []struct {
		name, got, want string
	}{
		// sha256("albedo/api")[:8], fixed so that ARNs never change silently.
		{"tg id", config.TargetGroupID("albedo", "api"), "7612e1ae6f436f39"},
		{"tg arn", config.TargetGroupARN("eu-west-1", "111122223333", "albedo", "api"),
			"arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/api/" + config.TargetGroupID("albedo", "api")},
		{"lb name", config.LoadBalancerName("albedo"), "app/albedo/" + config.LoadBalancerID("albedo")},
		{"lb arn", config.LoadBalancerARN("us-east-1", "123456789012", "albedo"),
			"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/albedo/" + config.LoadBalancerID("albedo")},
		{"fn arn", config.FunctionARN("us-east-1", "123456789012", "f"), "arn:aws:lambda:us-east-1:123456789012:function:f"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if config.TargetGroupID("a", "b") == config.TargetGroupID("b", "b") {
		t.Error("target group id does not depend on the load balancer")
	}
}
