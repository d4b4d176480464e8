//go:build unix && !linux

package executor

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Other Unix systems (macOS for developers' laptops) run functions the
// same way with three differences, documented in doc.go: there is no
// Pdeathsig, so a SIGKILLed albedo leaves its function processes to exit
// when their Runtime API connection fails; there is no /proc, so Max Memory
// Used is reported as 0 and memory is not enforced; and the machine's RAM
// comes from sysctl where the system has hw.memsize.

// runtimeProcAttr puts a runtime in its own process group so that the
// whole tree can be killed.
func runtimeProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// ioctlPending asks a pipe how many bytes are unread: FIONREAD, which is
// _IOR('f', 127, int) on macOS and the BSDs (x/sys/unix does not name it
// there).
const ioctlPending = 0x4004667f

// machineMemoryMB is hw.memsize, or 0 (no memory budget) when unknown.
func machineMemoryMB() int {
	n, err := unix.SysctlUint64("hw.memsize")
	if err != nil {
		return 0
	}
	return int(n >> 20)
}
