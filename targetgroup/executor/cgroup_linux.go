package executor

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	"golang.org/x/sys/unix"
)

// cgroupIso is a cgroup isolation (v1 or v2) whose parent cgroup may hold
// what a previous albedo of the same name left.
type cgroupIso interface {
	isolation
	// leftovers names the environment cgroups under the parent.
	leftovers() []string
	// open takes over an existing environment cgroup.
	open(id string) (cgroupSandbox, error)
	// parentDir is the parent cgroup's directory (v1: in the memory
	// hierarchy), which the live Pool holds an flock on.
	parentDir() string
}

// heldIso is a cgroupIso whose parent directory this process holds an
// exclusive flock on for as long as it uses the parent: another albedo
// with the same name (the same state_dir) cannot take it while this one
// runs, and so never ends its environments as leftovers, even when the
// state files that lock the state_dir were deleted under it. The kernel
// lets the flock go when the process dies, however it dies.
type heldIso struct {
	cgroupIso
	lock *os.File
}

// hold takes the flock on iso's parent directory, without waiting.
func hold(iso cgroupIso) (*heldIso, error) {
	f, err := os.Open(iso.parentDir())
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s (another albedo with the same state_dir)", ErrCgroupInUse, iso.parentDir())
		}
		return nil, fmt.Errorf("lock %s: %w", iso.parentDir(), err)
	}
	return &heldIso{cgroupIso: iso, lock: f}, nil
}

// close removes the parent, then lets the flock go.
func (h *heldIso) close() error {
	err := h.cgroupIso.close()
	h.lock.Close()
	return err
}

// cgroupSandbox is an environment's cgroup.
type cgroupSandbox interface {
	sandbox
	// killCount SIGKILLs every process in the cgroup and says how many.
	killCount() int
}

// newIsolation sets up the sandboxes of a Pool named name: cgroups when
// the machine lets albedo create them, otherwise process groups with albedo
// as child subreaper, and the reason. Only the environments of functions
// with cpu_model aws use the cpu controller (cpu: there are such
// functions): a cgroup in the cpu hierarchy is scheduled as one entity
// among albedo's threads and the machine's other tasks, which would change
// how the host's CPU is shared. On v1 that is each environment's choice;
// v2 enables the controller for all of them or none.
func newIsolation(name string, cpu bool, log *slog.Logger) isolation {
	if name == "" {
		return newProcGroups("cgroups not requested", log)
	}
	c, err := newCgroups(name, cpu)
	if err != nil {
		return newProcGroups("no writable cgroup: "+err.Error(), log)
	}
	iso, err := hold(c)
	if err != nil {
		// Never close c: its parent is the other albedo's.
		return newProcGroups(err.Error(), log)
	}
	sweep(iso, log)
	return iso
}

// maxProcesses is the processes and threads one execution environment may
// have at once, with a pids controller: Lambda's quota ("Processes and
// threads: 1,024", Lambda quotas, "Function configuration, deployment, and
// execution": https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
// Past it fork and clone fail (EAGAIN) inside the function, and a fork
// bomb cannot take the machine's process table with it.
const maxProcesses = 1024

// newCgroups creates (or takes over) the parent cgroup name, on v2 with
// the cpu controller when cpu.
func newCgroups(name string, cpu bool) (cgroupIso, error) {
	switch cgroups.Mode() {
	case cgroups.Unavailable:
		return nil, errors.New("no cgroup file system at /sys/fs/cgroup")
	case cgroups.Unified:
		ctrls := []string{"memory"}
		if cpu {
			ctrls = append(ctrls, "cpu")
		}
		ctrls = append(ctrls, "pids")
		return newCgroup2(cgroup2Mount, "", name, ctrls)
	default: // legacy or hybrid: the controllers are v1's
		return newCgroup1(name)
	}
}

// CPUQuotaSupport says why cpu_model aws cannot be honoured by an albedo
// started like this process (the reason), or nil when it can: albedo's own
// cgroup must offer the memory and cpu controllers and be writable. It
// creates nothing; `albedo validate` calls it.
func CPUQuotaSupport() error {
	var dirs []string
	switch cgroups.Mode() {
	case cgroups.Unavailable:
		return errors.New("no cgroup file system at /sys/fs/cgroup")
	case cgroups.Unified:
		own, err := cgroup2.NestedGroupPath("")
		if err != nil {
			return fmt.Errorf("albedo's own cgroup: %w", err)
		}
		dir := filepath.Join(cgroup2Mount, own)
		avail := strings.Fields(readString(filepath.Join(dir, "cgroup.controllers")))
		for _, c := range cgroup2Controllers {
			if !slices.Contains(avail, c) {
				return fmt.Errorf("cgroup v2: the %s controller is not available in %s", c, dir)
			}
		}
		dirs = append(dirs, dir)
	default:
		subs, err := cgroup1.Default()
		if err != nil {
			return fmt.Errorf("cgroup v1: %w", err)
		}
		own := cgroup1.NestedPath("")
		for _, n := range []cgroup1.Name{cgroup1.Memory, cgroup1.Cpu} {
			i := slices.IndexFunc(subs, func(s cgroup1.Subsystem) bool { return s.Name() == n })
			if i < 0 {
				return fmt.Errorf("cgroup v1: the %s controller is not mounted", n)
			}
			p, err := own(n)
			if err != nil {
				return fmt.Errorf("cgroup v1: albedo's own %s cgroup: %w", n, err)
			}
			dirs = append(dirs, subs[i].(interface{ Path(string) string }).Path(p))
		}
	}
	for _, d := range dirs {
		if err := unix.Access(d, unix.W_OK); err != nil {
			return fmt.Errorf("cannot create cgroups in %s: %w", d, err)
		}
	}
	return nil
}

func newProcGroups(reason string, log *slog.Logger) isolation {
	if err := enableSubreaper(); err != nil {
		log.Warn("cannot become the subreaper of functions' orphans", "err", err)
	}
	return procGroups{reason: reason}
}

// RemoveLeftovers ends what an albedo with Options.CgroupName name left
// behind, as New does, and also removes the parent cgroup. It returns how
// many processes it ended. It is for a name no Pool uses any more (tests
// whose albedo was killed last, tools); while a running albedo's Pool
// uses it, it ends nothing and returns an error wrapping ErrCgroupInUse.
func RemoveLeftovers(name string) (int, error) {
	if err := checkCgroupName(name); err != nil {
		return 0, err
	}
	c, err := newCgroups(name, false)
	if err != nil {
		return 0, nil // no cgroups: nothing can be left in one
	}
	iso, err := hold(c)
	if err != nil {
		return 0, err
	}
	_, procs := sweep(iso, slog.New(slog.DiscardHandler))
	return procs, iso.close()
}

// sweep kills and removes the environment cgroups that a previous albedo
// of the same name left behind (it was killed, or its machine lost power)
// and logs how many processes it ended.
func sweep(iso cgroupIso, log *slog.Logger) (removed, procs int) {
	names := iso.leftovers()
	if len(names) == 0 {
		return 0, 0
	}
	for _, id := range names {
		sb, err := iso.open(id)
		if err != nil {
			log.Warn("cannot open a cgroup left by a previous albedo", "cgroup", id, "err", err)
			continue
		}
		procs += sb.killCount()
		if err := sb.release(); err != nil {
			log.Warn("cannot remove a cgroup left by a previous albedo", "cgroup", id, "err", err)
			continue
		}
		removed++
	}
	log.Warn("removed the execution environments a previous albedo with this state_dir left behind",
		"cgroups", removed, "processes_ended", procs)
	return removed, procs
}

// subdirs lists the directories in dir.
func subdirs(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// procsOf lists the processes directly in the cgroup directory dir. Only
// a function that made cgroups of its own has processes deeper; removal
// then takes the slow path (removeCgroup), which walks the tree.
func procsOf(dir string) []int {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	return appendPids(nil, b)
}

// tasksOf lists the processes in the cgroup directory dir and its
// descendants.
func tasksOf(dir string) []int {
	var pids []int
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			b, _ := os.ReadFile(filepath.Join(path, "cgroup.procs"))
			pids = appendPids(pids, b)
		}
		return nil
	})
	return pids
}

func appendPids(pids []int, b []byte) []int {
	for _, f := range bytes.Fields(b) {
		if pid, err := strconv.Atoi(string(f)); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// signalAll SIGKILLs pids (never albedo) and returns how many it
// signalled.
func signalAll(pids []int) int {
	self := os.Getpid()
	n := 0
	for _, pid := range pids {
		if pid != self && syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}

// drainWait bounds how long killed processes may take to leave their
// cgroup (a large address space takes a while to free).
const drainWait = 5 * time.Second

// drain calls kill until the cgroup dir is empty.
func drain(dir string, kill func() int, empty func() bool) error {
	deadline := time.Now().Add(drainWait)
	for {
		kill()
		if empty() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s: processes still running %s after SIGKILL", dir, drainWait)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// removeCgroup removes an emptied environment cgroup, one directory per
// hierarchy, with a plain rmdir each. When one fails (cgroups the function
// made inside, a task still leaving), slow does the rest.
func removeCgroup(dirs []string, slow func() error) error {
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			return slow()
		}
	}
	return nil
}

// freezeWait bounds a v1 freeze: a task in uninterruptible sleep can keep
// the cgroup FREEZING; then the kill proceeds half frozen.
const freezeWait = 200 * time.Millisecond

// freeze writes FROZEN to a v1 freezer cgroup and waits (bounded) until
// the cgroup is frozen; thaw must follow in any case.
func freeze(dir string) {
	f := filepath.Join(dir, "freezer.state")
	if os.WriteFile(f, []byte("FROZEN"), 0) != nil {
		return
	}
	deadline := time.Now().Add(freezeWait)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(f); err != nil || string(bytes.TrimSpace(b)) == "FROZEN" {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// thaw lets a v1 freezer cgroup run again (killed tasks then die).
func thaw(dir string) {
	os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0)
}

// readKeyed returns the value of key in a "key value" per line cgroup file
// (memory.events, memory.oom_control), or -1.
func readKeyed(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	for line := range bytes.Lines(b) {
		k, v, ok := bytes.Cut(bytes.TrimSpace(line), []byte{' '})
		if ok && string(k) == key {
			n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// counterFile is a cgroup file holding one number of bytes (the memory
// peak), kept open and re-read with pread: it sits on the invocation path
// for the REPORT line. The last value read stays available once closed.
type counterFile struct {
	mu   sync.Mutex
	fd   int // -1 when closed or missing
	last int64
}

func openCounter(path string) *counterFile {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		fd = -1
	}
	return &counterFile{fd: fd, last: -1}
}

// read re-reads the file; it returns the value in bytes, or -1.
func (c *counterFile) read() int64 {
	var buf [32]byte
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return c.last
	}
	n, err := syscall.Pread(c.fd, buf[:], 0)
	if err != nil || n <= 0 {
		return c.last
	}
	v, err := strconv.ParseInt(string(bytes.TrimSpace(buf[:n])), 10, 64)
	if err != nil {
		return c.last
	}
	c.last = v
	return v
}

// kb is the value in kB, -1 when the file does not exist.
func (c *counterFile) kb() int64 {
	v := c.read()
	if v < 0 {
		return -1
	}
	return v / 1024
}

func (c *counterFile) close() {
	c.mu.Lock()
	if c.fd >= 0 {
		syscall.Close(c.fd)
		c.fd = -1
	}
	c.mu.Unlock()
}
