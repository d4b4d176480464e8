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
func killStrays(pgids []int, tag string, reap bool) int {
	if len(pgids) == 0 {
		return 0
	}
	procs := scanProcs()
	self := os.Getpid()
	children := make(map[int][]int, len(procs))
	parent := make(map[int]int, len(procs))
	var queue []int
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p.pid)
		parent[p.pid] = p.ppid
		switch {
		case slices.Contains(pgids, p.pgid):
			queue = append(queue, p.pid)
		case p.ppid == self && tag != "" && !p.zombie && hasEnv(p.pid, tag):
			queue = append(queue, p.pid)
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
		queue = append(queue, children[pid]...)
		syscall.Kill(pid, syscall.SIGKILL)
		if slices.Contains(pgids, pid) {
			continue // a started process: its own Wait reaps it
		}
		n++
		if reap && parent[pid] == self {
			var ws unix.WaitStatus
			if got, _ := unix.Wait4(pid, &ws, unix.WNOHANG, nil); got == pid {
				n--
			}
		}
	}
	return n
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
	var buf [512]byte
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		fd, err := syscall.Open("/proc/"+name+"/stat", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		k, _ := syscall.Read(fd, buf[:])
		syscall.Close(fd)
		if e, ok := parseProcStat(buf[:max(k, 0)]); ok {
			e.pid = pid
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
