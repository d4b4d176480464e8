package config_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/albedo-lb/albedo/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

const invalidDir = "../testdata/config/invalid"

// TestGoldenInvalid loads every testdata/config/invalid/<case>.yaml (one
// mistake each) and compares all reported errors, one per line with the
// file's base name, line and column, with <case>.err. Regenerate with
// go test ./config -run Golden -update, then review the diff.
func TestGoldenInvalid(t *testing.T) {
	entries, err := os.ReadDir(invalidDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".yaml")
		if !ok {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(invalidDir, name+".yaml")
			_, err := config.Load(path)
			if err == nil {
				t.Fatal("Load succeeded; want errors")
			}
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T is not config.Errors", err)
			}
			var b strings.Builder
			for _, e := range errs {
				c := *e
				c.File = filepath.Base(c.File)
				b.WriteString(c.Error())
				b.WriteByte('\n')
			}
			got := b.String()
			golden := filepath.Join(invalidDir, name+".err")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ\ngot:\n%s\nwant:\n%s", got, want)
			}
		})
	}
	if n < 40 {
		t.Errorf("only %d invalid cases, want at least 40", n)
	}
}
