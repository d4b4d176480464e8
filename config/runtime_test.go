package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

// managedConfig is a config with one function of runtime and handler whose
// code directory holds files.
func managedConfig(t *testing.T, runtime, handler string, files map[string]string, extra string) (*config.Config, error) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, "code", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(dir, "code"), 0o755)
	text := `functions:
  - name: fn
    runtime: ` + runtime + `
    handler: "` + handler + `"
    code: ./code
` + extra
	path := filepath.Join(dir, "albedo.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return config.Load(path)
}

func TestManagedRuntimeWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, runtime, handler string
		files                  map[string]string
		extra                  string
		want                   string // substring of the one warning, "" = none
	}{
		{name: "node ok", runtime: "nodejs22.x", handler: "index.handler", files: map[string]string{"index.mjs": ""}},
		{name: "node nested ok", runtime: "nodejs20.x", handler: "src/api/app.handler", files: map[string]string{"src/api/app.cjs": ""}},
		{name: "node package ok", runtime: "nodejs20.x", handler: "lib.handler", files: map[string]string{"node_modules/lib/index.js": ""}},
		{name: "node module missing", runtime: "nodejs20.x", handler: "index.handler",
			want: `4:14: functions[0].handler: warning: no module for handler "index.handler" in "./code" or its layers: the function will fail with Runtime.ImportModuleError`},
		{name: "node module missing but built", runtime: "nodejs20.x", handler: "dist/index.handler", extra: "    build: [npm, run, build]\n"},
		{name: "node malformed", runtime: "nodejs18.x", handler: "index",
			want: `functions[0].handler: warning: "index" is not path/file.export: the function will fail with Runtime.MalformedHandlerName`},
		{name: "node relative", runtime: "nodejs18.x", handler: "../index.handler", want: "Runtime.MalformedHandlerName"},
		{name: "python ok", runtime: "python3.12", handler: "pkg.app.handler", files: map[string]string{"pkg/app.py": ""}},
		{name: "python package module ok", runtime: "python3.12", handler: "pkg.handler", files: map[string]string{"pkg/__init__.py": ""}},
		{name: "python missing", runtime: "python3.9", handler: "app.handler", want: "Runtime.ImportModuleError"},
		{name: "python malformed", runtime: "python3.13", handler: "handler", want: `"handler" is not module.function`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := managedConfig(t, tt.runtime, tt.handler, tt.files, tt.extra)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if len(cfg.Warnings) != 0 {
					t.Errorf("warnings %v", cfg.Warnings)
				}
				return
			}
			if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Error(), tt.want) {
				t.Errorf("warnings %v, want one with %q", cfg.Warnings, tt.want)
			}
		})
	}
}

// TestManagedRuntimeLayers: layer and runtimes paths are resolved against
// the config's directory; a module in a layer counts.
func TestManagedRuntimeLayers(t *testing.T) {
	t.Parallel()
	_, err := managedConfig(t, "python3.12", "shared.handler",
		map[string]string{"../layer/python/shared.py": "", "../bin/python3": ""},
		"    layers: [./layer]\nruntimes:\n  python3.12: ./bin/python3\n  nodejs20.x: node\n")
	if err == nil || !strings.Contains(err.Error(), `runtimes.python3.12: interpreter "./bin/python3" is not executable`) {
		t.Fatalf("err = %v, want the interpreter refused as not executable", err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "code"), 0o755)
	os.MkdirAll(filepath.Join(dir, "layer", "nodejs", "node_modules", "mod"), 0o755)
	os.WriteFile(filepath.Join(dir, "py"), []byte("#!/bin/sh\n"), 0o755)
	text := "runtimes: {nodejs22.x: ./py}\nfunctions:\n  - {name: f, runtime: nodejs22.x, handler: mod.handler, code: ./code, layers: [./layer]}\n"
	os.WriteFile(filepath.Join(dir, "albedo.yaml"), []byte(text), 0o644)
	cfg, err := config.Load(filepath.Join(dir, "albedo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
	if got := cfg.Functions[0].Layers[0]; got != filepath.Join(dir, "layer") {
		t.Errorf("layer %q", got)
	}
	if got := cfg.Runtimes["nodejs22.x"]; got != filepath.Join(dir, "py") {
		t.Errorf("runtimes[nodejs22.x] = %q", got)
	}
	// ErrorAt points at where the file wrote a field, or its parent.
	if e := cfg.ErrorAt("functions[0].runtime", "too old"); e.Line != 3 || e.Column != 24 || !strings.HasSuffix(e.Error(), "albedo.yaml:3:24: functions[0].runtime: too old") {
		t.Errorf("ErrorAt = %v (line %d col %d)", e, e.Line, e.Column)
	}
	if e := cfg.ErrorAt("runtimes.nodejs22.x", "x"); e.Line != 1 || e.Column != 24 {
		t.Errorf("ErrorAt(runtimes.nodejs22.x) at %d:%d", e.Line, e.Column)
	}
	if e := cfg.ErrorAt("functions[0].memory_size", "x"); e.Line != 3 || e.Column != 5 {
		t.Errorf("ErrorAt(unwritten field) at %d:%d, want the function's 3:5", e.Line, e.Column)
	}
}
