package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

// An arn function without credentials warns once and leaves every remote
// function a client, whatever comes after it (a nil client for a later
// function panicked at start and on reload).
func TestRemoteClientsWithoutCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
	yaml := `state_dir: ` + t.TempDir() + `
functions:
  - {name: a1, arn: "arn:aws:lambda:us-east-1:123456789012:function:one"}
  - {name: e1, endpoint: "http://127.0.0.1:1", function_name: one}
  - {name: a2, arn: "arn:aws:lambda:eu-west-1:123456789012:function:two"}
  - {name: e2, endpoint: "http://127.0.0.1:1", function_name: two}
`
	cfg, err := config.Parse([]byte(yaml), filepath.Join(t.TempDir(), "albedo.yaml"))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	clients, rebuilt, err := remoteClients(context.Background(), cfg, nil, log)
	if err != nil {
		t.Fatalf("remoteClients: %v", err)
	}
	if len(clients) != 4 || len(rebuilt) != 4 {
		t.Fatalf("%d clients, %d rebuilt, want 4 and 4", len(clients), len(rebuilt))
	}
	for i, c := range clients {
		if c == nil {
			t.Fatalf("client %d is nil", i)
		}
	}
	if n := strings.Count(logs.String(), `msg="no AWS credentials`); n != 1 || !strings.Contains(logs.String(), "functions=a1,a2") {
		t.Errorf("want one warning naming a1,a2, got %d:\n%s", n, logs.String())
	}
}
