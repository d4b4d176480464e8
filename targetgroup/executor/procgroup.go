package executor

import (
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"
)

// procGroups is the isolation without cgroup access: each process started
// in a sandbox leads its own process group, and on Linux albedo is a child
// subreaper, so the orphans of a function (a setsid'd daemon whose parent
// exited) become albedo's children and are found and killed with their
// environment (orphans_linux.go). Memory is sampled by the Pool, CPU is the
// host's.
type procGroups struct {
	reason string // why there are no cgroups
}

func (procGroups) newSandbox(string, *function) (sandbox, error) { return &groupSandbox{}, nil }
func (procGroups) limitsMemory() bool                            { return false }
func (procGroups) limitsCPU() bool                               { return false }
func (g procGroups) String() string                              { return "process groups (" + g.reason + ")" }
func (procGroups) close() error                                  { return nil }

// sandboxPIDs holds the pids started in process-group sandboxes, of every
// Pool: their own Wait reaps them, and they are nobody's strays.
var sandboxPIDs sync.Map

// groupSandbox is a sandbox made of the process groups of the processes
// started in it, plus the strays found by their environment mark.
type groupSandbox struct {
	mu      sync.Mutex
	started []int  // pids started in the sandbox; each leads its group
	tag     string // AWS_LAMBDA_RUNTIME_API=… of the first start
	strays  int    // found by the last kill
}

func (s *groupSandbox) start(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = runtimeProcAttr()
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pgid = 0
	if err := cmd.Start(); err != nil {
		return err
	}
	sandboxPIDs.Store(cmd.Process.Pid, struct{}{})
	s.mu.Lock()
	s.started = append(s.started, cmd.Process.Pid)
	if s.tag == "" {
		s.tag = runtimeAPITag(cmd)
	}
	s.mu.Unlock()
	return nil
}

func (s *groupSandbox) groups() (pgids []int, tag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.started), s.tag
}

func (s *groupSandbox) kill() {
	pgids, tag := s.groups()
	for _, pg := range pgids {
		syscall.Kill(-pg, syscall.SIGKILL)
	}
	n := killStrays(pgids, tag, false)
	s.mu.Lock()
	s.strays = n
	s.mu.Unlock()
}

// strayWait bounds how long release looks for the sandbox's strays.
const strayWait = 2 * time.Second

// release expects a kill after the runtime was reaped (env.endSandbox):
// when that found no strays, none can appear any more (an orphan comes
// from a process of the sandbox, and there is none left).
func (s *groupSandbox) release() error {
	pgids, tag := s.groups()
	defer func() {
		for _, pid := range pgids {
			sandboxPIDs.Delete(pid)
		}
	}()
	for _, pg := range pgids {
		syscall.Kill(-pg, syscall.SIGKILL)
	}
	s.mu.Lock()
	strays := s.strays
	s.mu.Unlock()
	if strays == 0 {
		return nil
	}
	deadline := time.Now().Add(strayWait)
	for killStrays(pgids, tag, true) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

func (*groupSandbox) peakKB() int64     { return -1 }
func (*groupSandbox) outOfMemory() bool { return false }
