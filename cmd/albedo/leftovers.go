package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/async"
	"github.com/albedo-lb/albedo/targetgroup/executor/policy"
)

// bindAfterLeftovers binds cfg's sockets. When an address is busy and no
// running albedo holds cfg's state_dir, the port may be held by what a
// killed albedo with this state_dir left behind (a function's child that
// bound it): those processes are ended first, as the pool would end them a
// moment later anyway, and the sockets are bound once more. A busy port
// held by anything else fails as before.
func bindAfterLeftovers(cfg *config.Config, log *slog.Logger) (*sockets, error) {
	socks, err := bind(cfg)
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
		return socks, err
	}
	dir, aerr := filepath.Abs(cfg.StateDir)
	if aerr != nil || !stateDirFree(dir) {
		return nil, err
	}
	n, rerr := executor.RemoveLeftovers(executor.CgroupNameFor(dir))
	if rerr != nil || n == 0 {
		return nil, err
	}
	log.Warn("an address was busy: ended the processes a previous albedo with this state_dir left behind, and bound again",
		"processes_ended", n, "state_dir", dir)
	return bind(cfg)
}

// stateDirFree reports whether no running albedo holds the state files in
// dir: the exclusive flock serve's state files take can be had now (and
// is let go at once). Missing files are held by nobody.
func stateDirFree(dir string) bool {
	for _, name := range []string{policy.File, async.File} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		f.Close() // closing lets the lock go
		if err != nil {
			return false
		}
	}
	return true
}
