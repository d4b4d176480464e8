package exectest

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// LocalRuntime is the managed runtime matching the interpreter on PATH:
// "nodejs20.x" for lang "node" when node is Node.js 20, "python3.11" for
// "python" when python3 is 3.11. It skips tb, with a message saying what
// to install, when there is no such interpreter.
func LocalRuntime(tb testing.TB, lang string) string {
	tb.Helper()
	var cmd *exec.Cmd
	switch lang {
	case "node":
		cmd = exec.Command("node", "-p", "process.versions.node.split('.')[0]")
	case "python":
		cmd = exec.Command("python3", "-c", "import sys; print(sys.version_info[1])")
	default:
		tb.Fatalf("exectest: unknown language %q", lang)
	}
	out, err := cmd.Output()
	v := strings.TrimSpace(string(out))
	if _, convErr := strconv.Atoi(v); err != nil || convErr != nil {
		tb.Skipf("exectest: no usable %s interpreter on PATH (%v, %q): install it (Debian: apt-get install nodejs python3) to run this test", lang, err, v)
	}
	if lang == "node" {
		return "nodejs" + v + ".x"
	}
	return "python3." + v
}
