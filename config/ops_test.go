package config_test

import (
	"testing"

	"github.com/albedo-lb/albedo/config"
)

// TestLogAndPricing: log and pricing take their defaults when unset, and
// an explicit zero price (a free function) is kept, not defaulted.
func TestLogAndPricing(t *testing.T) {
	const base = `
listeners:
  - port: 8080
    default_action: {forward: {target_group: web}}
target_groups:
  - {name: web, targets: [web-fn]}
functions:
  - name: web-fn
    runtime: builtin
    handler: echo
    policy:
      - {sid: alb, principal: elasticloadbalancing.amazonaws.com, action: "lambda:InvokeFunction"}
`
	tests := []struct {
		name    string
		extra   string
		log     config.Log
		pricing config.Pricing
		token   string
	}{
		{name: "defaults", log: config.Log{Level: "info", Format: "text"},
			pricing: config.Pricing{RequestUSDPerMillion: 0.20, GBSecondUSD: 0.0000166667}},
		{name: "set", extra: "log: {level: debug, format: json}\npricing: {request_usd_per_million: 1, gb_second_usd: 0.0000133334}\nadmin: {ops_token: abcdefghijklmnop}\n",
			log: config.Log{Level: "debug", Format: "json"}, pricing: config.Pricing{RequestUSDPerMillion: 1, GBSecondUSD: 0.0000133334}, token: "abcdefghijklmnop"},
		{name: "explicit zero price", extra: "pricing: {gb_second_usd: 0}\n",
			log: config.Log{Level: "info", Format: "text"}, pricing: config.Pricing{RequestUSDPerMillion: 0.20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tt.extra+base), "")
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Log != tt.log || cfg.Pricing != tt.pricing || cfg.Admin.OpsToken != tt.token {
				t.Errorf("log %+v pricing %+v token %q, want %+v %+v %q", cfg.Log, cfg.Pricing, cfg.Admin.OpsToken, tt.log, tt.pricing, tt.token)
			}
		})
	}
}
