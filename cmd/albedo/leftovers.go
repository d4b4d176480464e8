package main

import (
	"errors"
	"log/slog"
	"path/filepath"
	"syscall"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor"
)

// bindAfterLeftovers binds cfg's sockets. When an address is busy, the
// port may be held by what a killed albedo with this state_dir left behind
// (a function's child that bound it): those processes are ended first, as
// the pool would end them a moment later anyway, and the sockets are bound
// once more. executor.RemoveLeftovers ends nothing while a running albedo
// holds the state_dir's cgroup (ErrCgroupInUse), so a live albedo's
// functions are never touched; a busy port held by anything else fails as
// before.
func bindAfterLeftovers(cfg *config.Config, log *slog.Logger) (*sockets, error) {
	socks, err := bind(cfg)
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
		return socks, err
	}
	dir, aerr := filepath.Abs(cfg.StateDir)
	if aerr != nil {
		return nil, err
	}
	n, rerr := executor.RemoveLeftovers(executor.CgroupNameFor(dir))
	if rerr != nil || n == 0 {
		return nil, err
	}
	if socks, err = bind(cfg); err != nil {
		return nil, err
	}
	log.Warn("an address was busy: ended the processes a previous albedo with this state_dir left behind, and bound it",
		"processes_ended", n, "state_dir", dir)
	return socks, nil
}
