package config_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, and it
// returns either a config or a non-empty config.Errors.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(invalidDir, "*.yaml"))
	seeds = append(seeds, examplePath)
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add(config.DefaultYAML())
	f.Add([]byte(aliasBomb()))
	f.Add([]byte("a: &a\n  <<: *a\n"))
	f.Add([]byte("<<: [{region: us-east-1}, *x]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse(data, "")
		if err == nil {
			if c == nil {
				t.Fatal("nil config without error")
			}
			return
		}
		var errs config.Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error is not a non-empty config.Errors: %v", err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range errs {
			if e.Msg == "" {
				t.Fatalf("empty message in %v", err)
			}
			// Syntax errors have a position inside the document.
			if strings.HasPrefix(e.Msg, "invalid YAML:") && (e.Line < 1 || e.Line > lines || e.Column < 1) {
				t.Fatalf("syntax error outside the %d-line document: %v", lines, e)
			}
		}
	})
}
