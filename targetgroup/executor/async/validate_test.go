package async

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   Config
		field string // "" = valid
	}{
		{"default", DefaultConfig(), ""},
		{"bounds low", Config{MaximumRetryAttempts: 0, MaximumEventAge: 60 * time.Second}, ""},
		{"bounds high", Config{MaximumRetryAttempts: 2, MaximumEventAge: 21600 * time.Second}, ""},
		{"retries -1", Config{MaximumRetryAttempts: -1, MaximumEventAge: time.Hour}, "MaximumRetryAttempts"},
		{"retries 3", Config{MaximumRetryAttempts: 3, MaximumEventAge: time.Hour}, "MaximumRetryAttempts"},
		{"age 0", Config{}, "MaximumEventAgeInSeconds"},
		{"age 21601s", Config{MaximumEventAge: 21601 * time.Second}, "MaximumEventAgeInSeconds"},
		{"bad on_success", Config{MaximumEventAge: time.Hour, OnSuccess: "file://relative"}, "OnSuccess"},
		{"bad on_failure", Config{MaximumEventAge: time.Hour, OnFailure: "arn:aws:sns:us-east-1:1:t"}, "OnFailure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Validate = %v, want ErrInvalidConfig naming %s", err, tt.field)
			}
		})
	}
}

func TestParseDestination(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    destination
		wantErr bool
	}{
		{in: ""},
		{in: "file:///var/log/records.jsonl", want: destination{File: "/var/log/records.jsonl"}},
		{in: "file:///a/../b.jsonl", want: destination{File: "/b.jsonl"}},
		{in: "file://rel.jsonl", wantErr: true},
		{in: "my-fn_2", want: destination{Function: "my-fn_2"}},
		{in: "arn:aws:lambda:us-east-1:123456789012:function:sink", want: destination{Function: "sink"}},
		{in: "arn:aws:lambda:us-east-1:123456789012:function:sink:$LATEST", want: destination{Function: "sink"}},
		{in: "arn:aws-cn:lambda:cn-north-1:123456789012:function:sink", want: destination{Function: "sink"}},
		{in: "arn:aws:lambda:us-east-1:123456789012:function:sink:prod", wantErr: true},
		{in: "arn:aws:sqs:us-east-1:123456789012:queue", wantErr: true},
		{in: "arn:aws:lambda:us-east-1:123456789012:layer:x", wantErr: true},
		{in: "arn:aws:lambda:us-east-1:123456789012:function:bad name", wantErr: true},
		{in: "has space", wantErr: true},
		{in: strings.Repeat("a", 65), wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseDestination(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseDestination(%q) = %+v, %v; want %+v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("parseDestination(%q) error %v is not ErrInvalidConfig", tt.in, err)
		}
	}
}

func FuzzParseDestination(f *testing.F) {
	for _, s := range []string{"", "file:///x", "fn", "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST", "arn:::::::::", "file://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDestination(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v is not ErrInvalidConfig", err)
			}
			return
		}
		if d.File != "" && d.Function != "" {
			t.Fatalf("both file and function: %+v", d)
		}
		if d.Function != "" && !validName(d.Function) {
			t.Fatalf("invalid function name %q accepted", d.Function)
		}
		if s != "" && d.none() {
			t.Fatalf("%q parsed to no destination", s)
		}
	})
}
