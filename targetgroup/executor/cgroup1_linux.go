package executor

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/containerd/cgroups/v3/cgroup1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cgroup1Iso is the isolation on cgroup v1 (and the hybrid layout): a
// parent cgroup named after the Pool in the memory hierarchy (required),
// and in the cpu, freezer and pids hierarchies when they are mounted, each
// beneath the cgroup albedo itself runs in; one child per environment.
type cgroup1Iso struct {
	parent cgroup1.Cgroup
	subs   []cgroup1.Name // memory first
	own    []string       // albedo's own cgroup directory, per subs
	dirs   []string       // the parent cgroup's directory, per subs
	memsw  bool           // memory.memsw.* exists: swap can be excluded
}

// v1Subsystems are the controllers albedo uses, memory first.
var v1Subsystems = []cgroup1.Name{cgroup1.Memory, cgroup1.Cpu, cgroup1.Freezer, cgroup1.Pids}

// newCgroup1 creates (or takes over) the parent cgroup name beneath
// albedo's own cgroup in each hierarchy.
func newCgroup1(name string) (*cgroup1Iso, error) {
	all, err := cgroup1.Default()
	if err != nil {
		return nil, fmt.Errorf("cgroup v1: %w", err)
	}
	var subs []cgroup1.Subsystem
	for _, s := range all {
		if slices.Contains(v1Subsystems, s.Name()) {
			subs = append(subs, s)
		}
	}
	slices.SortFunc(subs, func(a, b cgroup1.Subsystem) int {
		return slices.Index(v1Subsystems, a.Name()) - slices.Index(v1Subsystems, b.Name())
	})
	if len(subs) == 0 || subs[0].Name() != cgroup1.Memory {
		return nil, errors.New("cgroup v1: the memory controller is not mounted")
	}
	// /proc/self/cgroup shows the main thread's cgroups, which start
	// never moves.
	ownPath, parentPath := cgroup1.NestedPath(""), cgroup1.NestedPath(name)
	iso := &cgroup1Iso{}
	var kept []cgroup1.Subsystem
	for _, s := range subs {
		p, err := ownPath(s.Name())
		if err != nil {
			return nil, fmt.Errorf("cgroup v1: albedo's own %s cgroup: %w", s.Name(), err)
		}
		dir := s.(interface{ Path(string) string }).Path(p)
		if s.Name() != cgroup1.Memory {
			// An optional controller albedo may not write to (a partly
			// delegated v1 tree) is left out rather than costing the
			// memory limit too.
			if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				continue
			}
		}
		kept = append(kept, s)
		iso.subs = append(iso.subs, s.Name())
		iso.own = append(iso.own, dir)
		iso.dirs = append(iso.dirs, filepath.Join(dir, name))
	}
	hierarchy := func() ([]cgroup1.Subsystem, error) { return kept, nil }
	iso.parent, err = cgroup1.New(parentPath, &specs.LinuxResources{}, cgroup1.WithHierarchy(hierarchy))
	if err != nil {
		for _, d := range iso.dirs {
			os.Remove(d)
		}
		return nil, fmt.Errorf("cgroup v1: %w", err)
	}
	_, err = os.Stat(filepath.Join(iso.dirs[0], "memory.memsw.limit_in_bytes"))
	iso.memsw = err == nil
	return iso, nil
}

func (c *cgroup1Iso) has(n cgroup1.Name) bool { return slices.Contains(c.subs, n) }

func (c *cgroup1Iso) limitsMemory() bool { return true }
func (c *cgroup1Iso) limitsCPU() bool    { return c.has(cgroup1.Cpu) }

func (c *cgroup1Iso) String() string {
	names := make([]string, len(c.subs))
	for i, s := range c.subs {
		names[i] = string(s)
	}
	return "cgroup v1 (" + strings.Join(names, ", ") + ")"
}

// leftovers lists the environments' cgroups found under the parent: a
// previous albedo with the same name left them when it was killed.
func (c *cgroup1Iso) leftovers() []string {
	var names []string
	for _, d := range c.dirs {
		for _, n := range subdirs(d) {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names
}

func (c *cgroup1Iso) newSandbox(id string, fn *function) (sandbox, error) {
	s, err := c.child(id, fn)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (c *cgroup1Iso) open(id string) (cgroupSandbox, error) {
	s, err := c.child(id, nil)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// child creates (or, with fn nil, opens) the cgroup of environment id.
func (c *cgroup1Iso) child(id string, fn *function) (*cgroup1Sandbox, error) {
	res := &specs.LinuxResources{}
	if fn != nil {
		limit := int64(fn.cfg.MemorySize) << 20
		res.Memory = &specs.LinuxMemory{Limit: &limit}
		if c.memsw {
			res.Memory.Swap = &limit // memory+swap = memory: no swap
		}
		if fn.cfg.CPUModel == CPUModelAWS && c.has(cgroup1.Cpu) {
			quota, period := awsCPUQuotaUS(fn.cfg.MemorySize), uint64(cpuPeriodUS)
			res.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
		}
		if c.has(cgroup1.Pids) {
			limit := int64(maxProcesses)
			res.Pids = &specs.LinuxPids{Limit: &limit}
		}
	}
	cg, err := c.parent.New(id, res)
	s := &cgroup1Sandbox{iso: c, cg: cg}
	for i, d := range c.dirs {
		s.dirs = append(s.dirs, filepath.Join(d, id))
		if res.CPU != nil || c.subs[i] != cgroup1.Cpu {
			// A function without a quota stays in albedo's cpu
			// cgroup, scheduled as before.
			s.joins = append(s.joins, i)
		}
	}
	if err != nil {
		s.removeDirs()
		return nil, fmt.Errorf("create cgroup %s: %w", s.dirs[0], err)
	}
	s.peak = openCounter(filepath.Join(s.dirs[0], "memory.max_usage_in_bytes"))
	return s, nil
}

func (c *cgroup1Iso) parentDir() string { return c.dirs[0] }

func (c *cgroup1Iso) close() error {
	if err := c.parent.Delete(); err != nil {
		return fmt.Errorf("remove cgroup %s: %w", c.dirs[0], err)
	}
	return nil
}

// cgroup1Sandbox is one environment's cgroup in every hierarchy.
type cgroup1Sandbox struct {
	iso   *cgroup1Iso
	cg    cgroup1.Cgroup
	dirs  []string // per iso.subs
	joins []int    // indexes of the dirs that processes join
	peak  *counterFile

	// mu keeps kill out while start has an albedo thread in the cgroup:
	// a freeze would stop it, and albedo's pid would be among the tasks.
	mu sync.Mutex
}

// start runs cmd in the cgroup. cgroup v1 has no clone-into-cgroup, but
// it places threads, not processes, and a child starts in the cgroups of
// the thread that forks it: a locked OS thread joins the environment's
// cgroups (writing "0", the calling thread, to their tasks files, which the
// kernel does without its global threadgroup lock), forks and execs cmd,
// and goes back. The runtime thus never runs outside its cgroup, at the
// price of four to six small writes. Never the main thread: v1 charges albedo's
// memory to the cgroup of the main thread (the address space's owner), and
// /proc/self/cgroup, which newCgroup1 reads, shows its cgroups.
func (s *cgroup1Sandbox) start(cmd *exec.Cmd) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return onSideThread(func() (bool, error) {
		err := joinThread(s.dirs, s.joins)
		if err == nil {
			err = cmd.Start()
		}
		if back := joinThread(s.iso.own, s.joins); back != nil {
			// The thread cannot leave: the Go runtime ends it, and
			// Pdeathsig what it started, which Wait reaps.
			if err == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
			return true, fmt.Errorf("leave cgroup %s: %w", s.dirs[0], back)
		}
		return false, err
	})
}

// onSideThread runs f on a locked OS thread other than the main one. When
// f reports the thread spoiled, the thread stays locked to its goroutine,
// which makes the Go runtime end it.
func onSideThread(f func() (spoiled bool, err error)) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// Holding the main thread, the next locked goroutine
			// gets another one.
			errc <- onSideThread(f)
			runtime.UnlockOSThread()
			return
		}
		spoiled, err := f()
		if !spoiled {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// joinThread moves the calling thread into the cgroup directories dirs[i]
// for i in joins.
func joinThread(dirs []string, joins []int) error {
	var first error
	for _, i := range joins {
		if err := os.WriteFile(filepath.Join(dirs[i], "tasks"), []byte("0"), 0); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// kill SIGKILLs every process of the cgroup. A tree of processes is
// frozen first when the freezer is mounted, so that nothing forks while it
// dies; a lone process (the runtime, the common case) is not: whatever it
// forks meanwhile is in the cgroup and dies in release's next round.
func (s *cgroup1Sandbox) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killLocked()
}

func (s *cgroup1Sandbox) killLocked() int {
	pids := procsOf(s.dirs[0])
	if len(pids) == 0 {
		return 0 // the common end: the runtime exited alone
	}
	if i := slices.Index(s.iso.subs, cgroup1.Freezer); i >= 0 && len(pids) > 1 {
		freeze(s.dirs[i])
		defer thaw(s.dirs[i])
		pids = procsOf(s.dirs[0])
	}
	return signalAll(pids)
}

// killCount kills the whole tree, frozen, for the sweep of leftovers.
func (s *cgroup1Sandbox) killCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.Index(s.iso.subs, cgroup1.Freezer); i >= 0 {
		freeze(s.dirs[i])
		defer thaw(s.dirs[i])
	}
	return signalAll(tasksOf(s.dirs[0]))
}

func (s *cgroup1Sandbox) release() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mem := s.dirs[0]
	if err := drain(mem, s.killLocked, func() bool { return len(procsOf(mem)) == 0 }); err != nil {
		return err
	}
	s.peak.read() // keep the last value
	s.peak.close()
	return removeCgroup(s.dirs, func() error {
		err := drain(mem, func() int { return signalAll(tasksOf(mem)) }, func() bool { return len(tasksOf(mem)) == 0 })
		if err == nil {
			err = s.cg.Delete()
		}
		if err != nil {
			return fmt.Errorf("remove cgroup %s: %w", mem, err)
		}
		return nil
	})
}

// removeDirs removes what a failed creation left.
func (s *cgroup1Sandbox) removeDirs() {
	for _, d := range s.dirs {
		os.Remove(d)
	}
}

func (s *cgroup1Sandbox) peakKB() int64 { return s.peak.kb() }

// outOfMemory reads oom_kill of memory.oom_control (Linux 4.13+).
func (s *cgroup1Sandbox) outOfMemory() bool {
	return readKeyed(filepath.Join(s.dirs[0], "memory.oom_control"), "oom_kill") > 0
}
