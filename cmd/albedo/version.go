package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at link time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

// versionString is "albedo <version> (<module version>, <go version>)",
// the module version coming from the build info when albedo was built with
// "go install module@version".
func versionString() string {
	mod := ""
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		mod = bi.Main.Version + ", "
	}
	return fmt.Sprintf("albedo %s (%s%s %s/%s)", version, mod, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("version", "albedo version", "Print albedo's version, the Go version and the platform.")
	if _, code, ok := fs.parse(args, 0, stdout, stderr); !ok {
		return code
	}
	fmt.Fprintln(stdout, versionString())
	return 0
}
