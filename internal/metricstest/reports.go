package metricstest

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Reports are the totals of a function's REPORT lines (Lambda's format:
// tab-separated, Billed Duration in whole ms, sizes in MB), what its
// metrics must add up to.
type Reports struct {
	Lines, Cold, Timeouts, MaxMemoryMB int
	GBSeconds                          float64 // Memory Size / 1024 × Billed Duration
}

var reportRE = regexp.MustCompile(`^(?:\[(\S+)\] )?REPORT RequestId: \S+\tDuration: [0-9.]+ ms\tBilled Duration: ([0-9]+) ms\tMemory Size: ([0-9]+) MB\tMax Memory Used: ([0-9]+) MB\t`)

// SumReports adds up the REPORT lines of log. function "" takes lines
// without a prefix (one function's log); otherwise only lines prefixed
// "[function] ", as albedo serve writes them, count. A REPORT line that
// does not parse fails t.
func SumReports(t testing.TB, log, function string) Reports {
	t.Helper()
	var r Reports
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "REPORT RequestId: ") {
			continue
		}
		m := reportRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("REPORT line does not parse: %q", line)
		}
		if m[1] != function {
			continue
		}
		billed, _ := strconv.Atoi(m[2])
		size, _ := strconv.Atoi(m[3])
		used, _ := strconv.Atoi(m[4])
		r.Lines++
		r.GBSeconds += float64(size) / 1024 * float64(billed) / 1000
		r.MaxMemoryMB = max(r.MaxMemoryMB, used)
		if strings.Contains(line, "\tInit Duration: ") {
			r.Cold++
		}
		if strings.Contains(line, "\tStatus: timeout\t") {
			r.Timeouts++
		}
	}
	return r
}
