package executor

import (
	"bytes"
	"os"
	"strconv"
)

// readStatusKB returns a "Field:   N kB" value of /proc/<pid>/status, or -1.
// VmHWM is the peak resident set size of the process since it started: the
// kernel keeps the high-water mark, so sampling it at any interval never
// misses a peak.
func readStatusKB(pid int, field string) int64 {
	var buf [4096]byte
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	n, _ := f.Read(buf[:])
	f.Close()
	return parseKB(buf[:n], field)
}

// parseKB finds "field:" in a /proc status or meminfo text and returns its
// value in kB, or -1.
func parseKB(b []byte, field string) int64 {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		rest, ok := bytes.CutPrefix(line, []byte(field))
		if !ok || len(rest) == 0 || rest[0] != ':' {
			continue
		}
		rest = bytes.TrimSpace(rest[1:])
		rest = bytes.TrimSuffix(rest, []byte(" kB"))
		v, err := strconv.ParseInt(string(bytes.TrimSpace(rest)), 10, 64)
		if err != nil {
			return -1
		}
		return v
	}
	return -1
}

// kbToMB rounds up.
func kbToMB(kb int64) int {
	if kb <= 0 {
		return 0
	}
	return int((kb + 1023) / 1024)
}

// machineMemoryMB is MemTotal of /proc/meminfo, or 0 when unknown.
func machineMemoryMB() int {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return int(parseKB(b, "MemTotal") / 1024)
}
