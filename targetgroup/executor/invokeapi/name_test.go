package invokeapi

import (
	"testing"

	"github.com/albedo-lb/albedo/targetgroup/executor"
)

func TestParseFunctionName(t *testing.T) {
	tests := []struct {
		in, query string
		want      functionRef
		wantCode  string
	}{
		{in: "my-function", want: functionRef{Name: "my-function"}},
		{in: "my.function_1", want: functionRef{Name: "my.function_1"}},
		{in: "my-function:$LATEST", want: functionRef{Name: "my-function", Qualifier: "$LATEST"}},
		{in: "my-function:prod", want: functionRef{Name: "my-function", Qualifier: "prod"}},
		{in: "my-function", query: "7", want: functionRef{Name: "my-function", Qualifier: "7"}},
		{in: "my-function:7", query: "7", want: functionRef{Name: "my-function", Qualifier: "7"}},
		{in: "arn:aws:lambda:us-west-2:123456789012:function:my-function",
			want: functionRef{Name: "my-function", Region: "us-west-2", Account: "123456789012"}},
		{in: "arn:aws:lambda:us-west-2:123456789012:function:my-function:$LATEST",
			want: functionRef{Name: "my-function", Region: "us-west-2", Account: "123456789012", Qualifier: "$LATEST"}},
		{in: "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f",
			want: functionRef{Name: "f", Region: "us-gov-west-1", Account: "123456789012"}},
		{in: "123456789012:function:my-function", want: functionRef{Name: "my-function", Account: "123456789012"}},
		{in: "123456789012:function:my-function:v1", want: functionRef{Name: "my-function", Account: "123456789012", Qualifier: "v1"}},
		{in: "function:f", want: functionRef{Name: "f"}},
		{in: "", wantCode: excValidation},
		{in: "a b", wantCode: excValidation},
		{in: "f:q:r", wantCode: excValidation},
		{in: "f:q.1", wantCode: excValidation},
		{in: "f:", wantCode: excValidation},
		{in: "arn:aws:s3:::bucket", wantCode: excValidation},
		{in: "arn:aws:lambda:", wantCode: excValidation},
		{in: string(make([]byte, 171)), wantCode: excValidation},
		{in: "f:1", query: "2", wantCode: excInvalidParameterValue},
		{in: "f", query: "bad qualifier", wantCode: excValidation},
	}
	for _, tt := range tests {
		t.Run(tt.in+"?"+tt.query, func(t *testing.T) {
			got, e := parseFunctionName(tt.in, tt.query)
			if tt.wantCode != "" {
				if e == nil || e.Code != tt.wantCode {
					t.Fatalf("got %+v %v, want %s", got, e, tt.wantCode)
				}
				return
			}
			if e != nil || got != tt.want {
				t.Errorf("got %+v %v, want %+v", got, e, tt.want)
			}
		})
	}
}

func TestFormatUUID(t *testing.T) {
	id := executor.FormatUUID([16]byte{0: 0xff, 6: 0xff, 8: 0xff, 15: 0x01})
	if id != "ff000000-0000-4f00-bf00-000000000001" {
		t.Errorf("got %s", id)
	}
	if a, b := executor.NewRequestID(), executor.NewRequestID(); a == b || len(a) != 36 {
		t.Errorf("ids %s %s", a, b)
	}
}
