package executor

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Linux is albedo's primary platform: environments get Pdeathsig, memory is
// read from /proc (memory.go), and the machine's RAM from /proc/meminfo.

// runtimeProcAttr puts a runtime in its own process group (so the whole
// tree can be killed) and has the kernel SIGKILL it when albedo dies, so no
// function process outlives albedo, even after a SIGKILL.
func runtimeProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// ioctlPending asks a pipe how many bytes are unread.
const ioctlPending = unix.TIOCINQ

// machineMemoryMB is MemTotal of /proc/meminfo, or 0 when unknown.
func machineMemoryMB() int {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return int(parseKB(b, "MemTotal") / 1024)
}
