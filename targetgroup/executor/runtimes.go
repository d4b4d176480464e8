package executor

import (
	"strconv"
	"strings"
)

// runtimeKind says how a function's execution environments start.
type runtimeKind int

const (
	kindProvided runtimeKind = iota // a bootstrap executable in Code
	kindBuiltin                     // Options.BuiltinCommand + handler
	kindNode                        // nodejsN.x: albedo's Node.js runtime client
	kindPython                      // python3.N: albedo's Python runtime client
)

// runtimeSpec is a parsed runtime name.
type runtimeSpec struct {
	kind runtimeKind
	// major and minor are the version the name declares: nodejs20.x is
	// 20.0, python3.12 is 3.12. Zero for provided and builtin.
	major, minor int
}

// parseRuntime parses a Function.Runtime. nodejsN.x and python3.N accept
// any N, so that a runtime Lambda adds later works without a new albedo.
func parseRuntime(name string) (runtimeSpec, bool) {
	switch name {
	case "provided.al2023", "provided.al2", "provided", "":
		return runtimeSpec{kind: kindProvided}, true
	case "builtin":
		return runtimeSpec{kind: kindBuiltin}, true
	}
	if v, ok := strings.CutPrefix(name, "nodejs"); ok {
		if n, ok := strings.CutSuffix(v, ".x"); ok {
			if major, ok := smallUint(n); ok && major > 0 {
				return runtimeSpec{kind: kindNode, major: major}, true
			}
		}
		return runtimeSpec{}, false
	}
	if v, ok := strings.CutPrefix(name, "python3."); ok {
		if minor, ok := smallUint(v); ok {
			return runtimeSpec{kind: kindPython, major: 3, minor: minor}, true
		}
	}
	return runtimeSpec{}, false
}

// managed reports whether the runtime runs on an interpreter with one of
// albedo's runtime clients.
func (s runtimeSpec) managed() bool { return s.kind == kindNode || s.kind == kindPython }

// smallUint parses 1-3 decimal digits without a leading zero.
func smallUint(s string) (int, bool) {
	if len(s) == 0 || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, _ := strconv.Atoi(s)
	return n, true
}
