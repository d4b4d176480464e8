package policy

import (
	"testing"

	"github.com/albedo-lb/albedo/config"
)

func TestPolicyDocumentPrincipals(t *testing.T) {
	tests := []struct {
		principal string
		want      string
	}{
		{"*", `"*"`},
		{"123456789012", `{"AWS":"arn:aws:iam::123456789012:root"}`},
		{"arn:aws:iam::123456789012:role/x", `{"AWS":"arn:aws:iam::123456789012:role/x"}`},
		{"sns.amazonaws.com", `{"Service":"sns.amazonaws.com"}`},
	}
	for _, tt := range tests {
		t.Run(tt.principal, func(t *testing.T) {
			got := string(StatementJSON("arn:f", config.Statement{Sid: "s", Principal: tt.principal, Action: "lambda:*"}))
			want := `{"Sid":"s","Effect":"Allow","Principal":` + tt.want + `,"Action":"lambda:*","Resource":"arn:f"}`
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}
