//go:build !linux

package main

import (
	"errors"
	"syscall"
)

// errBenchNeedsLinux: bench reads the CPU time and peak RSS of its child
// processes from /proc.
var errBenchNeedsLinux = errors.New("albedo bench reads CPU and memory from /proc: it runs on Linux only")

func childProcAttr() *syscall.SysProcAttr { return nil }

func procCPU(int) (float64, error) { return 0, errBenchNeedsLinux }
