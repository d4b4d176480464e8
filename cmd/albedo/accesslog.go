package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/albedo-lb/albedo/balancer"
	"github.com/albedo-lb/albedo/config"
)

// accessLog is where the ALB access log goes: the -access-log flag when
// given, else the config's access_log, else nowhere. Its file is opened
// in append mode and created when missing; SIGUSR1 reopens it by name
// (logrotate renames the file, then signals), and a reloaded config can
// move it. The balancer owns the buffering (balancer.SetAccessLog); this
// owns the files. Used by one goroutine at a time (start-up, then the
// reloader).
type accessLog struct {
	flag          string    // -access-log, "" when not given
	stdout        io.Writer // for "-"
	accessLogDest           // the destination now
}

// accessLogDest is a destination: path "" is none (w nil), "-" standard
// output, else the file f.
type accessLogDest struct {
	path string
	f    *os.File
	w    io.Writer // nil: none
}

// destination is the access log cfg asks for, the flag overriding it.
func (a *accessLog) destination(cfg *config.Config) string {
	switch {
	case a.flag != "":
		return a.flag
	case cfg.AccessLog != nil:
		return cfg.AccessLog.Path
	}
	return ""
}

// open opens path as a destination.
func (a *accessLog) open(path string) (*accessLogDest, error) {
	d := &accessLogDest{path: path}
	switch path {
	case "":
	case "-":
		d.w = a.stdout
	default:
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("access log: %w", err)
		}
		d.f, d.w = f, f
	}
	return d, nil
}

// use makes d the destination and returns the previous file, which the
// caller closes once the balancer writes to d (nil when there is none).
func (a *accessLog) use(d *accessLogDest) *os.File {
	old := a.f
	a.accessLogDest = *d
	return old
}

// switchTo makes d the destination and moves bal (nil: none) to it; the
// previous file gets every line buffered before, then is closed.
func (a *accessLog) switchTo(d *accessLogDest, bal *balancer.Balancer, log *slog.Logger) {
	old := a.use(d)
	if bal != nil {
		if err := bal.SetAccessLog(d.w); err != nil {
			log.Warn("access log: flushing into the old destination", "err", err)
		}
	}
	if old != nil {
		old.Close()
	}
}

// close closes the file, after the balancer flushed into it (Shutdown).
func (a *accessLog) close() {
	if a.f != nil {
		a.f.Close()
		a.f, a.w = nil, nil
	}
}
