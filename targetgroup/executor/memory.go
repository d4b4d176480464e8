package executor

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
)

// statusFile keeps /proc/<pid>/status and /proc/<pid>/statm open:
// re-reading them with pread at offset 0 regenerates them, without the open
// and close of every sample (the reads sit on the invocation path for the
// REPORT line).
type statusFile struct {
	mu    sync.Mutex
	fd    int // status; -1 when closed
	statm int // statm; -1 when closed
}

func openStatus(pid int) *statusFile {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	fd, err := syscall.Open(dir+"status", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		fd = -1
	}
	statm, err := syscall.Open(dir+"statm", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		statm = -1
	}
	return &statusFile{fd: fd, statm: statm}
}

var pageKB = int64(os.Getpagesize() / 1024)

// residentKB returns the current resident set size in kB, or -1. statm is
// a few numbers and much cheaper to generate than status.
func (s *statusFile) residentKB() int64 {
	var buf [128]byte
	b := s.pread(&s.statm, buf[:])
	if b == nil {
		return -1
	}
	return parseStatmResident(b) * pageKB
}

// pread reads the file *fd, one of s's, from offset 0 into buf, or
// returns nil. The lock keeps close from reusing the descriptor under it.
func (s *statusFile) pread(fd *int, buf []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *fd < 0 {
		return nil
	}
	n, err := syscall.Pread(*fd, buf, 0)
	if err != nil || n <= 0 {
		return nil
	}
	return buf[:n]
}

// parseStatmResident returns the second field of statm (resident pages),
// or -1.
func parseStatmResident(b []byte) int64 {
	_, rest, ok := bytes.Cut(b, []byte{' '})
	if !ok {
		return -1
	}
	if i := bytes.IndexAny(rest, " \n"); i >= 0 {
		rest = rest[:i]
	}
	v, err := strconv.ParseInt(string(rest), 10, 64)
	if err != nil || v < 0 {
		return -1
	}
	return v
}

// readKB returns a field of the status file in kB, or -1.
func (s *statusFile) readKB(field string) int64 {
	var buf [4096]byte
	b := s.pread(&s.fd, buf[:])
	if b == nil {
		return -1
	}
	return parseKB(b, field)
}

// PeakRSS returns the peak resident set size (VmHWM) of process pid in
// bytes, read from /proc/<pid>/status the way the REPORT line's Max Memory
// Used is: for callers that measure other processes (albedo bench).
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	kb := parseKB(b, "VmHWM")
	if kb < 0 {
		return 0, fmt.Errorf("executor: no VmHWM in /proc/%d/status", pid)
	}
	return kb * 1024, nil
}

func (s *statusFile) close() {
	s.mu.Lock()
	if s.fd >= 0 {
		syscall.Close(s.fd)
		s.fd = -1
	}
	if s.statm >= 0 {
		syscall.Close(s.statm)
		s.statm = -1
	}
	s.mu.Unlock()
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
