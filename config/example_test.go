package config_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

const examplePath = "../testdata/config/example.yaml"

func TestExample(t *testing.T) {
	cfg, err := config.Load(examplePath)
	if err != nil {
		var errs config.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				t.Error(e)
			}
		}
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(examplePath)
	dir := filepath.Dir(abs)
	fn := cfg.FunctionByName("api-fn")
	tg := cfg.TargetGroupByName("api-next")
	checks := []struct {
		name      string
		got, want any
	}{
		{"file", cfg.File, abs},
		{"state_dir", cfg.StateDir, filepath.Join(dir, ".albedo")},
		{"admin", cfg.Admin.Address, "127.0.0.1:9001"},
		{"ops token", cfg.Admin.OpsToken, "scrape-3f9a1c7e2b8d4e60"},
		{"log", cfg.Log, config.Log{Level: "info", Format: "text"}},
		{"pricing", cfg.Pricing, config.Pricing{RequestUSDPerMillion: 0.20, GBSecondUSD: 0.0000166667}},
		{"idle_timeout", cfg.IdleTimeout.String(), "10m0s"},
		{"listeners", len(cfg.Listeners), 2},
		{"rules", len(cfg.Listeners[0].Rules), 5},
		{"weighted", len(cfg.Listeners[0].Rules[0].Action.Forward.TargetGroups), 2},
		{"weight", *cfg.Listeners[0].Rules[0].Action.Forward.TargetGroups[1].Weight, 20},
		{"single normalized", cfg.Listeners[0].Rules[1].Action.Forward.TargetGroup, ""},
		{"single name", cfg.Listeners[0].Rules[1].Action.Forward.TargetGroups[0].Name, "api-next"},
		{"single weight", *cfg.Listeners[0].Rules[1].Action.Forward.TargetGroups[0].Weight, 1},
		{"stickiness", cfg.Listeners[0].Rules[0].Action.Forward.Stickiness.Duration, 600},
		{"redirect protocol default", cfg.Listeners[0].Rules[3].Action.Redirect.Protocol, "#{protocol}"},
		{"redirect query default", cfg.Listeners[0].Rules[3].Action.Redirect.Query, "#{query}"},
		{"https default protocol", cfg.Listeners[1].Protocol, "HTTPS"},
		{"cert resolved", cfg.Listeners[1].Certificates[0].CertificateFile, filepath.Join(dir, "tls/site.pem")},
		{"tg arn", tg.ARN, "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-next/" + config.TargetGroupID("albedo", "api-next")},
		{"tg function from arn", tg.Function, "api-fn"},
		{"tg type default", tg.TargetType, "lambda"},
		{"hc defaults", tg.HealthCheck, config.HealthCheck{Path: "/", Interval: 35, Timeout: 30, HealthyThreshold: 5, UnhealthyThreshold: 2, Matcher: "200"}},
		{"fn arn", fn.ARN, "arn:aws:lambda:us-east-1:123456789012:function:api-fn"},
		{"code resolved", fn.Code, filepath.Join(dir, "../../targetgroup/executor/testfunctions/noop")},
		{"reserved", *fn.ReservedConcurrency, 10},
		{"cpu_model", cfg.CPUModel, "host"},
		{"function cpu_model", fn.CPUModel, "aws"},
		{"inherited cpu_model", cfg.FunctionByName("echo").CPUModel, "host"},
		{"env", fn.Environment["GREETING"], "hi"},
		{"retries", *fn.Async.MaximumRetryAttempts, 1},
		{"on_success resolved", fn.Async.OnSuccess, "file://" + filepath.Join(dir, ".albedo/api-success.jsonl")},
		{"echo handler", cfg.FunctionByName("echo").Handler, "echo"},
		{"remote arn", cfg.FunctionByName("prod-api").ARN, "arn:aws:lambda:eu-west-1:111122223333:function:api:live"},
		{"remote arn target", cfg.TargetGroupByName("api-aws").Function, "prod-api"},
		{"remote timeout", cfg.FunctionByName("prod-api").Timeout, 30},
		{"endpoint", cfg.FunctionByName("rie-api").Endpoint, "http://127.0.0.1:9000"},
		{"endpoint policy_source default", cfg.FunctionByName("rie-api").PolicySource, "config"},
		{"node layer resolved", cfg.FunctionByName("web-node").Layers[0], filepath.Join(dir, "../functions/alb-layer")},
		{"runtimes", cfg.Runtimes["python3.12"], "python3.12"},
		{"no warnings", len(cfg.Warnings), 0},
		{"echo memory default", cfg.FunctionByName("echo").MemorySize, 128},
		{"echo retries default", *cfg.FunctionByName("echo").Async.MaximumRetryAttempts, 2},
		{"echo age default", cfg.FunctionByName("echo").Async.MaximumEventAge, 21600},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func ExampleParse() {
	doc := []byte(`
listeners:
  - port: 8080
    default_action: {forward: {target_group: web}}
target_groups:
  - {name: web, targets: [web-fn]}
functions:
  - name: web-fn
    runtime: builtin
    handler: echo
`)
	_, err := config.Parse(doc, "albedo.yaml")
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Println(e.Line, e.Column, e.Path)
			fmt.Println(e.Msg[:strings.Index(e.Msg, ";")])
		}
	}
	// Output:
	// 6 27 target_groups[0].targets[0]
	// elasticloadbalancing principal does not have permission to invoke arn:aws:lambda:us-east-1:123456789012:function:web-fn from target group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/2d2b5e1ddaf194a3
}
