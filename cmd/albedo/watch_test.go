package main

import (
	"path/filepath"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

// TestWatchTargets: a function whose code directory holds albedo's own
// files (code: . next to albedo.yaml) is not reloaded by them: the config
// file, the state directory, the access log; nor by its build's handler.
func TestWatchTargets(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Config{
		File:     filepath.Join(dir, "albedo.yaml"),
		StateDir: filepath.Join(dir, ".albedo"),
		Functions: []config.Function{
			{Name: "go", Runtime: "provided.al2023", Code: dir, Build: []string{"go", "build", "-o", "bootstrap", "."}},
			{Name: "node", Runtime: "nodejs20.x", Handler: "index.handler", Code: dir, Layers: []string{filepath.Join(dir, "layer")}},
			{Name: "echo", Runtime: "builtin", Handler: "echo"},
			{Name: "far", Endpoint: "http://127.0.0.1:1"},
		},
	}
	targets := watchTargets("", cfg, filepath.Join(dir, "access.log"))
	names := map[string]int{}
	for i, tt := range targets {
		names[tt.Name] = i
	}
	if len(targets) != 3 || targets[0].Name != configTarget || targets[0].Files[0] != cfg.File {
		t.Fatalf("targets %+v: want the config file and the two functions with code", targets)
	}
	for _, tt := range []struct {
		target, path string
		ignored      bool
	}{
		{"function:go", "main.go", false},
		{"function:go", "bootstrap", true},
		{"function:go", "albedo.yaml", true},
		{"function:go", ".albedo/queue.db", true},
		{"function:go", ".albedo-other/x", false},
		{"function:go", "access.log", true},
		{"function:node", "bootstrap", false},
		{"function:node", "index.js", false},
	} {
		target := targets[names[tt.target]]
		if got := target.Ignore(filepath.Join(dir, tt.path)); got != tt.ignored {
			t.Errorf("%s ignores %s: %v, want %v", tt.target, tt.path, got, tt.ignored)
		}
	}
	if trees := targets[names["function:node"]].Trees; len(trees) != 2 || trees[1] != filepath.Join(dir, "layer") {
		t.Errorf("node's trees %v: want the code and the layer", trees)
	}
}
