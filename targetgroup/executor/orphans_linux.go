package executor

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// enableSubreaper makes albedo the reaper of its descendants' orphans
// (PR_SET_CHILD_SUBREAPER): a function's daemon whose parent exited becomes
// albedo's child instead of init's, so killStrays finds it. It is a
// process-wide setting and stays on.
func enableSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// procEntry is one line of the process table.
type procEntry struct {
	pid, ppid, pgid int
	zombie          bool
}

// killStrays SIGKILLs the processes of a process-group sandbox whose
// groups are pgids: the members of those groups, every descendant of them,
// and the children albedo adopted as subreaper whose environment carries
// tag (the environment's AWS_LAMBDA_RUNTIME_API), with their descendants.
// With reap it also reaps the adopted ones that died. It returns how many
// such processes it found besides the group leaders (the processes started
// in the sandbox, which their own Wait reaps). A setsid'd orphan that exited
// before anything looked at it has lost its environment and is not found:
// it stays a zombie until albedo exits.
//
// It reads the process tree from the children files of /proc (a few small
// reads: the runtime's threads, albedo's threads), or, where the kernel
// has none (no CONFIG_PROC_CHILDREN), from every /proc/<pid>/stat.
func killStrays(pgids []int, tag string, reap bool) int {
	if len(pgids) == 0 {
		return 0
	}
	self := os.Getpid()
	var v procView = childrenView{}
	if _, ok := v.children(self); !ok {
		v = newScanView()
	}
	var queue []int
	for _, pg := range pgids {
		if e, ok := v.stat(pg); ok && e.pgid == pg {
			queue = append(queue, pg) // the leader runs: its tree
		}
	}
	kids, _ := v.children(self)
	for _, c := range kids {
		if _, ok := sandboxPIDs.Load(c); ok {
			continue // a sandbox's own process, this one's included
		}
		if e, ok := v.stat(c); ok && (slices.Contains(pgids, e.pgid) || !e.zombie && tag != "" && hasEnv(c, tag)) {
			queue = append(queue, c)
		}
	}
	seen := make(map[int]bool, len(queue))
	n := 0
	for len(queue) > 0 {
		pid := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[pid] || pid == self {
			continue
		}
		seen[pid] = true
		kids, _ := v.children(pid)
		queue = append(queue, kids...)
		syscall.Kill(pid, syscall.SIGKILL)
		if slices.Contains(pgids, pid) {
			continue // a started process: its own Wait reaps it
		}
		n++
		if reap {
			var ws unix.WaitStatus
			if got, _ := unix.Wait4(pid, &ws, unix.WNOHANG, nil); got == pid {
				n--
			}
		}
	}
	return n
}

// procView reads the process tree.
type procView interface {
	children(pid int) ([]int, bool) // ok false: no such file
	stat(pid int) (procEntry, bool)
}

// childrenView reads /proc/<pid>/task/<tid>/children and /proc/<pid>/stat
// on demand.
type childrenView struct{}

func (childrenView) children(pid int) ([]int, bool) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task/"
	d, err := os.Open(dir)
	if err != nil {
		return nil, false
	}
	tids, _ := d.Readdirnames(-1)
	d.Close()
	var out []int
	ok := false
	for _, tid := range tids {
		b, err := os.ReadFile(dir + tid + "/children")
		if err != nil {
			continue
		}
		ok = true
		out = appendPids(out, b)
	}
	return out, ok
}

func (childrenView) stat(pid int) (procEntry, bool) {
	var buf [512]byte
	fd, err := syscall.Open("/proc/"+strconv.Itoa(pid)+"/stat", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return procEntry{}, false
	}
	k, _ := syscall.Read(fd, buf[:])
	syscall.Close(fd)
	e, ok := parseProcStat(buf[:max(k, 0)])
	e.pid = pid
	return e, ok
}

// scanView is the whole process table, read once.
type scanView struct {
	byPID    map[int]procEntry
	byParent map[int][]int
}

func newScanView() scanView {
	v := scanView{byPID: map[int]procEntry{}, byParent: map[int][]int{}}
	for _, e := range scanProcs() {
		v.byPID[e.pid] = e
		v.byParent[e.ppid] = append(v.byParent[e.ppid], e.pid)
	}
	return v
}

func (v scanView) children(pid int) ([]int, bool) { return v.byParent[pid], true }

func (v scanView) stat(pid int) (procEntry, bool) {
	e, ok := v.byPID[pid]
	return e, ok
}

// hasEnv reports whether the environment of process pid holds the entry kv.
func hasEnv(pid int, kv string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	for len(b) > 0 {
		entry, rest, _ := bytes.Cut(b, []byte{0})
		if string(entry) == kv {
			return true
		}
		b = rest
	}
	return false
}

// scanProcs reads the process table from /proc.
func scanProcs() []procEntry {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	out := make([]procEntry, 0, len(names))
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		if e, ok := (childrenView{}).stat(pid); ok {
			out = append(out, e)
		}
	}
	return out
}

// parseProcStat reads state, ppid and pgrp from /proc/<pid>/stat
// ("pid (comm) S ppid pgrp …"; comm may hold spaces and parentheses).
func parseProcStat(b []byte) (procEntry, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procEntry{}, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return procEntry{}, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgid, err2 := strconv.Atoi(string(f[2]))
	if err1 != nil || err2 != nil {
		return procEntry{}, false
	}
	return procEntry{ppid: ppid, pgid: pgid, zombie: f[0][0] == 'Z'}, true
}
