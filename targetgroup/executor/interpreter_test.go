package executor

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeInterpreter writes a script that answers ProbeInterpreter's
// question with version and self.
func fakeInterpreter(t *testing.T, dir, name, version, self string) string {
	t.Helper()
	writeTree(t, dir, map[string]string{name: "#!/bin/sh\nprintf '%s\\n%s' '" + version + "' '" + self + "'\n"})
	return filepath.Join(dir, name)
}

func TestProbeInterpreter(t *testing.T) {
	dir := t.TempDir()
	node18 := fakeInterpreter(t, dir, "node18", "18.19.0", "/opt/node18/bin/node")
	node22 := fakeInterpreter(t, dir, "node22", "22.1.0", "/opt/node22/bin/node")
	node20 := fakeInterpreter(t, dir, "node20", "20.11.1", "relative/self")
	py311 := fakeInterpreter(t, dir, "py311", "3.11.7", "/usr/bin/python3.11")
	py313 := fakeInterpreter(t, dir, "py313", "3.13.0", "/usr/bin/python3.13")
	py2 := fakeInterpreter(t, dir, "py2", "2.7.18", "/usr/bin/python2")
	broken := fakeInterpreter(t, dir, "broken", "not a version", "")
	writeTree(t, dir, map[string]string{"bin/python3": "#!/bin/sh\nprintf '3.12.1\\n/venv/bin/python3'\n"})
	t.Setenv("PATH", filepath.Join(dir, "bin"))
	tests := []struct {
		name, runtime, command string
		wantExec, wantWarn     string
		wantErr                string // substring of the InterpreterError
	}{
		{name: "older node", runtime: "nodejs20.x", command: node18, wantErr: node18 + " is Node.js 18.19.0, older than nodejs20.x (Node.js 20); install Node.js 20"},
		{name: "newer node", runtime: "nodejs20.x", command: node22, wantExec: "/opt/node22/bin/node", wantWarn: node22 + " is Node.js 22.1.0, newer than nodejs20.x: functions run on Node.js 22, not 20 as on Lambda"},
		{name: "same node, relative self", runtime: "nodejs20.x", command: node20, wantExec: node20},
		{name: "older python", runtime: "python3.12", command: py311, wantErr: py311 + " is Python 3.11.7, older than python3.12 (Python 3.12)"},
		{name: "newer python", runtime: "python3.12", command: py313, wantExec: "/usr/bin/python3.13", wantWarn: "newer than python3.12: functions run on Python 3.13, not 3.12"},
		{name: "python 2", runtime: "python3.9", command: py2, wantErr: "is Python 2.7.18, older than python3.9"},
		{name: "unparsable answer", runtime: "python3.12", command: broken, wantErr: "did not report its Python version"},
		{name: "python3 on PATH", runtime: "python3.12", wantExec: "/venv/bin/python3"},
		{name: "no node on PATH", runtime: "nodejs20.x", wantErr: "no Node.js interpreter: node is not on PATH; install Node.js 20 or name one in albedo.yaml (runtimes: {nodejs20.x: /path/to/node})"},
		{name: "configured command missing", runtime: "python3.12", command: "/nonexistent/python3", wantErr: `interpreter "/nonexistent/python3" not found or not executable`},
		{name: "not a managed runtime", runtime: "provided.al2023", wantErr: "not a runtime that needs an interpreter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := ProbeInterpreter(tt.runtime, tt.command)
			if tt.wantErr != "" {
				var ie *InterpreterError
				if !errors.As(err, &ie) || !errors.Is(err, ErrInterpreter) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want an InterpreterError with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if in.Exec != tt.wantExec || !strings.Contains(in.Warning, tt.wantWarn) || (tt.wantWarn == "") != (in.Warning == "") {
				t.Errorf("Exec %q Warning %q, want %q %q", in.Exec, in.Warning, tt.wantExec, tt.wantWarn)
			}
		})
	}
}

func TestParseRuntime(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
		kind runtimeKind
	}{
		{"nodejs20.x", true, kindNode}, {"nodejs4.x", true, kindNode}, {"nodejs100.x", true, kindNode},
		{"python3.9", true, kindPython}, {"python3.13", true, kindPython},
		{"provided.al2023", true, kindProvided}, {"builtin", true, kindBuiltin},
		{"nodejs.x", false, 0}, {"nodejs0.x", false, 0}, {"nodejs020.x", false, 0}, {"nodejs+2.x", false, 0}, {"nodejs20", false, 0},
		{"python3", false, 0}, {"python3.", false, 0}, {"python2.7", false, 0}, {"python3.1a", false, 0}, {"java21", false, 0},
	}
	for _, tt := range tests {
		spec, ok := parseRuntime(tt.name)
		if ok != tt.ok || (ok && spec.kind != tt.kind) {
			t.Errorf("parseRuntime(%q) = %+v, %v", tt.name, spec, ok)
		}
	}
}

// FuzzParseRuntime: parseRuntime accepts exactly the names it can print
// back, and parseVersion never panics.
func FuzzParseRuntime(f *testing.F) {
	for _, s := range []string{"nodejs20.x", "python3.12", "provided.al2023", "builtin", "nodejs0.x", "python3.", "v20.1.2", "3.12.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parseVersion(s)
		spec, ok := parseRuntime(s)
		if !ok {
			return
		}
		var back string
		switch spec.kind {
		case kindNode:
			back = "nodejs" + strconv.Itoa(spec.major) + ".x"
		case kindPython:
			back = "python3." + strconv.Itoa(spec.minor)
		default:
			return
		}
		if back != s {
			t.Errorf("parseRuntime(%q) = %+v, which prints as %q", s, spec, back)
		}
	})
}
