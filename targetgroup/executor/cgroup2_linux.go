package executor

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/containerd/cgroups/v3/cgroup2"
)

// cgroup2Mount is where the unified hierarchy is mounted on a v2 system.
const cgroup2Mount = "/sys/fs/cgroup"

// cgroup2Controllers are the controllers albedo may enable for
// environments; memory is required.
var cgroup2Controllers = []string{"memory", "cpu"}

// cgroup2Iso is the isolation on cgroup v2: a parent cgroup named after the
// Pool beneath albedo's own cgroup, one child per environment. Processes
// start inside their cgroup (clone into a cgroup, Linux 5.7) and die with
// it (cgroup.kill, Linux 5.14).
type cgroup2Iso struct {
	mount  string
	group  string // the parent's path below mount
	dir    string // mount + group
	parent *cgroup2.Manager
	ctrls  []string // enabled for the environments
	swap   bool     // memory.swap.max exists
}

// newCgroup2 creates (or takes over) the parent cgroup name beneath own
// (albedo's own cgroup, "" = read from /proc/self/cgroup) on the unified
// hierarchy at mount, enabling the controllers of want that own offers.
// Tests pass a controller-less mount to exercise the rest.
func newCgroup2(mount, own, name string, want []string) (*cgroup2Iso, error) {
	if own == "" {
		var err error
		if own, err = cgroup2.NestedGroupPath(""); err != nil {
			return nil, fmt.Errorf("cgroup v2: albedo's own cgroup: %w", err)
		}
	}
	ownDir := filepath.Join(mount, own)
	iso := &cgroup2Iso{mount: mount, group: filepath.Join(own, name), dir: filepath.Join(ownDir, name)}
	avail := strings.Fields(readString(filepath.Join(ownDir, "cgroup.controllers")))
	for _, c := range want {
		if slices.Contains(avail, c) {
			iso.ctrls = append(iso.ctrls, c)
		}
	}
	if slices.Contains(want, "memory") && !slices.Contains(iso.ctrls, "memory") {
		return nil, fmt.Errorf("cgroup v2: the memory controller is not available in %s", ownDir)
	}
	if err := enableControllers(ownDir, name, iso.ctrls); err != nil {
		return nil, err
	}
	if err := os.Mkdir(iso.dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	if _, err := os.Stat(filepath.Join(iso.dir, "cgroup.kill")); err != nil {
		os.Remove(iso.dir)
		return nil, errors.New("cgroup v2 without cgroup.kill (Linux 5.14 or later is needed)")
	}
	var err error
	if iso.parent, err = cgroup2.Load(iso.group, cgroup2.WithMountpoint(mount)); err != nil {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	if len(iso.ctrls) > 0 {
		if err := writeSubtreeControl(iso.dir, iso.ctrls); err != nil {
			return nil, fmt.Errorf("cgroup v2: enable %s in %s: %w", strings.Join(iso.ctrls, ", "), iso.dir, err)
		}
	}
	_, err = os.Stat(filepath.Join(iso.dir, "memory.swap.max"))
	iso.swap = err == nil
	return iso, nil
}

// enableControllers makes sure albedo's own cgroup passes ctrls on to its
// children. A cgroup that holds processes cannot (the "no internal
// processes" rule): when albedo is alone in it (a delegated unit such as
// systemd-run --scope -p Delegate=yes, or a container), albedo moves itself
// into a leaf beside its parent cgroup, as systemd asks of delegated units.
func enableControllers(ownDir, name string, ctrls []string) error {
	if len(ctrls) == 0 {
		return nil
	}
	enabled := strings.Fields(readString(filepath.Join(ownDir, "cgroup.subtree_control")))
	if !slices.ContainsFunc(ctrls, func(c string) bool { return !slices.Contains(enabled, c) }) {
		return nil
	}
	err := writeSubtreeControl(ownDir, ctrls)
	if errors.Is(err, syscall.EBUSY) && slices.Equal(tasksOf(ownDir), []int{os.Getpid()}) {
		leaf := filepath.Join(ownDir, name+"-albedo")
		if merr := os.Mkdir(leaf, 0o755); merr == nil || errors.Is(merr, os.ErrExist) {
			if merr = os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); merr == nil {
				err = writeSubtreeControl(ownDir, ctrls)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("cgroup v2: cannot enable %s for the children of %s (%w); run albedo alone in a cgroup delegated to it, e.g. systemd-run --scope -p Delegate=yes albedo serve",
			strings.Join(ctrls, ", "), ownDir, err)
	}
	return nil
}

func writeSubtreeControl(dir string, ctrls []string) error {
	return os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+"+strings.Join(ctrls, " +")), 0)
}

func readString(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func (c *cgroup2Iso) limitsMemory() bool { return slices.Contains(c.ctrls, "memory") }
func (c *cgroup2Iso) limitsCPU() bool    { return slices.Contains(c.ctrls, "cpu") }

func (c *cgroup2Iso) String() string {
	return "cgroup v2 (" + strings.Join(c.ctrls, ", ") + ")"
}

func (c *cgroup2Iso) leftovers() []string { return subdirs(c.dir) }

func (c *cgroup2Iso) newSandbox(id string, fn *function) (sandbox, error) {
	cg, err := c.parent.NewChild(id, nil)
	if err != nil {
		return nil, fmt.Errorf("create cgroup %s: %w", filepath.Join(c.dir, id), err)
	}
	s := c.sandbox(id, cg)
	res := &cgroup2.Resources{}
	if c.limitsMemory() {
		limit := int64(fn.cfg.MemorySize) << 20
		res.Memory = &cgroup2.Memory{Max: &limit}
		if c.swap {
			zero := int64(0)
			res.Memory.Swap = &zero
		}
	}
	if fn.cfg.CPUModel == CPUModelAWS && c.limitsCPU() {
		quota, period := awsCPUQuotaUS(fn.cfg.MemorySize), uint64(cpuPeriodUS)
		res.CPU = &cgroup2.CPU{Max: cgroup2.NewCPUMax(&quota, &period)}
	}
	if slices.Contains(c.ctrls, "pids") {
		res.Pids = &cgroup2.Pids{Max: maxProcesses}
	}
	if err := cg.Update(res); err != nil {
		cg.Delete()
		return nil, fmt.Errorf("set limits of cgroup %s: %w", s.dir, err)
	}
	s.peak = openCounter(filepath.Join(s.dir, "memory.peak"))
	return s, nil
}

func (c *cgroup2Iso) open(id string) (cgroupSandbox, error) {
	cg, err := cgroup2.Load(filepath.Join(c.group, id), cgroup2.WithMountpoint(c.mount))
	if err != nil {
		return nil, err
	}
	s := c.sandbox(id, cg)
	s.peak = openCounter("")
	return s, nil
}

func (c *cgroup2Iso) sandbox(id string, cg *cgroup2.Manager) *cgroup2Sandbox {
	return &cgroup2Sandbox{cg: cg, dir: filepath.Join(c.dir, id)}
}

func (c *cgroup2Iso) parentDir() string { return c.dir }

func (c *cgroup2Iso) close() error {
	if err := c.parent.Delete(); err != nil {
		return fmt.Errorf("remove cgroup %s: %w", c.dir, err)
	}
	return nil
}

// cgroup2Sandbox is one environment's cgroup.
type cgroup2Sandbox struct {
	cg   *cgroup2.Manager
	dir  string
	peak *counterFile
}

// start clones cmd directly into the cgroup (CLONE_INTO_CGROUP).
func (s *cgroup2Sandbox) start(cmd *exec.Cmd) error {
	fd, err := syscall.Open(s.dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", s.dir, err)
	}
	defer syscall.Close(fd)
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = runtimeProcAttr()
	}
	cmd.SysProcAttr.UseCgroupFD = true
	cmd.SysProcAttr.CgroupFD = fd
	return cmd.Start()
}

func (s *cgroup2Sandbox) kill() { s.cg.Kill() }

func (s *cgroup2Sandbox) killCount() int {
	n := len(tasksOf(s.dir))
	s.cg.Kill()
	return n
}

func (s *cgroup2Sandbox) release() error {
	// cgroup.kill and populated cover the whole subtree.
	empty := func() bool { return readKeyed(filepath.Join(s.dir, "cgroup.events"), "populated") <= 0 }
	if err := drain(s.dir, func() int { s.cg.Kill(); return 0 }, empty); err != nil {
		return err
	}
	s.peak.read()
	s.peak.close()
	return removeCgroup([]string{s.dir}, func() error {
		if err := s.cg.Delete(); err != nil {
			return fmt.Errorf("remove cgroup %s: %w", s.dir, err)
		}
		return nil
	})
}

func (s *cgroup2Sandbox) peakKB() int64 { return s.peak.kb() }

func (s *cgroup2Sandbox) outOfMemory() bool {
	return readKeyed(filepath.Join(s.dir, "memory.events"), "oom_kill") > 0
}
