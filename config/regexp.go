package config

import (
	"regexp"
	"sync"
)

// lazyRegexp compiles expr on its first use. Validation needs these
// expressions; a process that never validates (a builtin function's
// bootstrap, which is albedo's own binary, or `albedo version`) pays
// nothing for them at start-up. Compiled together they took 1.1 ms and
// 537 KB in 5,428 allocations of package initialisation (GODEBUG=inittrace=1):
// bounded repetitions such as {1,128} compile to large programs.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
