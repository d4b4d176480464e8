package main

import (
	"bufio"
	"errors"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/albedo-lb/albedo"

// importRule is one row of the README's import-rules table: packages
// matching pkg may import the albedo packages matching one of may.
type importRule struct {
	pkg string
	may []string
}

// readImportRules parses the table under "**Import rules.**" in README.md.
func readImportRules(t *testing.T, readme string) []importRule {
	t.Helper()
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code := regexp.MustCompile("`([^`]+)`")
	var rules []importRule
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "**Import rules.**"):
			in = true
		case !in:
		case strings.HasPrefix(line, "| `"):
			cells := strings.Split(line, "|")
			if len(cells) < 4 {
				t.Fatalf("README import rule %q: want | package | may import |", line)
			}
			pkg := code.FindStringSubmatch(cells[1])
			if pkg == nil {
				t.Fatalf("README import rule %q: no package", line)
			}
			r := importRule{pkg: pkg[1]}
			for _, m := range code.FindAllStringSubmatch(cells[2], -1) {
				r.may = append(r.may, m[1])
			}
			rules = append(rules, r)
		case len(rules) > 0 && !strings.HasPrefix(line, "|"):
			return rules
		}
	}
	if len(rules) == 0 {
		t.Fatal("README.md has no import-rules table")
	}
	return rules
}

// matches reports whether the module-relative package path p matches
// pattern: a path, "X/..." (X and below) or "..." (everything).
func matches(pattern, p string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pattern
}

// ruleFor is the most specific rule matching p: an exact row wins over a
// "/..." row, a longer "/..." row over a shorter one.
func ruleFor(rules []importRule, p string) (importRule, bool) {
	best, score := importRule{}, -1
	for _, r := range rules {
		if !matches(r.pkg, p) {
			continue
		}
		s := len(r.pkg)
		if !strings.HasSuffix(r.pkg, "...") {
			s += 1 << 20
		}
		if s > score {
			best, score = r, s
		}
	}
	return best, score >= 0
}

// TestImportRules checks every package of the module, its tests included
// (build constraints ignored, so every platform's files count), against
// the README's import rules.
func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	rules := readImportRules(t, filepath.Join(root, "README.md"))
	ctx := build.Default
	ctx.UseAllFiles = true
	checked := 0
	err = filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); dir != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		pkg, err := ctx.ImportDir(dir, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			return nil
		}
		rel, _ := filepath.Rel(root, dir)
		rel = filepath.ToSlash(rel)
		rule, ok := ruleFor(rules, rel)
		if !ok {
			t.Errorf("package %s is not covered by the README's import rules: add a row", rel)
			return nil
		}
		checked++
		for kind, imports := range map[string][]string{"": pkg.Imports, " (tests)": slices.Concat(pkg.TestImports, pkg.XTestImports)} {
			for _, imp := range imports {
				dep, ok := strings.CutPrefix(imp, modulePath+"/")
				if !ok || dep == rel {
					continue
				}
				if !slices.ContainsFunc(rule.may, func(m string) bool { return matches(m, dep) }) {
					t.Errorf("%s%s imports %s; the README allows it only %v", rel, kind, dep, rule.may)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("checked only %d packages: the walk missed the module", checked)
	}
}
