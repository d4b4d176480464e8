package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/albedo-lb/albedo/balancer"
	"github.com/albedo-lb/albedo/config"
)

// sockets are every socket albedo serves, bound before anything else
// starts: a busy port then fails `albedo serve` at once, before functions
// are built or state files opened, and nothing is left half started.
type sockets struct {
	listeners []net.Listener // config order; nil once handed to the balancer
	admin     net.Listener   // nil without admin.address
}

// bind binds the listeners and the admin address. It tries every one and
// reports each failure (a quick start still running holds both 8080 and
// 9001) as a *bindError; on failure nothing stays bound.
func bind(cfg *config.Config) (*sockets, error) {
	var errs []error
	lns, err := balancer.Listen(cfg)
	if err != nil {
		errs = append(errs, listenerBindErrors(cfg, err)...)
	}
	var admin net.Listener
	if cfg.Admin.Address != "" {
		admin, err = net.Listen("tcp", cfg.Admin.Address)
		if err != nil {
			errs = append(errs, &bindError{setting: "admin.address", addr: cfg.Admin.Address, file: cfg.File, err: err})
		}
	}
	s := &sockets{listeners: lns, admin: admin}
	if len(errs) > 0 {
		s.close()
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// close closes what was not handed over; closing twice is harmless.
func (s *sockets) close() {
	for _, ln := range s.listeners {
		ln.Close()
	}
	if s.admin != nil {
		s.admin.Close()
	}
}

// listenerBindErrors turns balancer.Listen's error into one *bindError per
// listener.
func listenerBindErrors(cfg *config.Config, err error) []error {
	var out []error
	for _, e := range unwrapAll(err) {
		var le *balancer.ListenError
		if !errors.As(e, &le) {
			out = append(out, e)
			continue
		}
		out = append(out, &bindError{setting: le.Setting(), addr: le.Address, file: cfg.File, err: le.Err})
	}
	return out
}

// unwrapAll flattens an errors.Join tree into its leaves.
func unwrapAll(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, unwrapAll(e)...)
	}
	return out
}

// bindError is a socket albedo could not bind, told the way a user fixes
// it: the setting to change, the address, the reason and what to do.
type bindError struct {
	setting string // "admin.address", "listeners[0].port", …
	addr    string
	file    string // the config file ("" for the embedded default)
	err     error
}

func (e *bindError) Error() string {
	where := "in " + e.file
	if e.file == "" {
		where = "in an albedo.yaml (the embedded default config is in use)"
	}
	var dns *net.DNSError
	switch {
	case errors.Is(e.err, syscall.EADDRINUSE):
		return fmt.Sprintf("%s: cannot listen on %s: address already in use by another process (another albedo, such as a quick start still running?); stop it, or set %s to a free port %s",
			e.setting, e.addr, e.setting, where)
	case errors.Is(e.err, syscall.EACCES):
		return fmt.Sprintf("%s: cannot listen on %s: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); set %s to a port above 1023 %s",
			e.setting, e.addr, e.setting, where)
	case errors.Is(e.err, syscall.EADDRNOTAVAIL):
		return fmt.Sprintf("%s: cannot listen on %s: not an address of this machine; set %s to one of its addresses (127.0.0.1 for this machine only) %s",
			e.setting, e.addr, e.setting, where)
	case errors.As(e.err, &dns):
		return fmt.Sprintf("%s: cannot listen on %s: %v; set %s to an IP address or a name this machine resolves %s",
			e.setting, e.addr, dns, e.setting, where)
	}
	reason := e.err.Error()
	var se *os.SyscallError
	if errors.As(e.err, &se) {
		reason = se.Err.Error()
	}
	return fmt.Sprintf("%s: cannot listen on %s: %s; change %s %s", e.setting, e.addr, reason, e.setting, where)
}

func (e *bindError) Unwrap() error { return e.err }
