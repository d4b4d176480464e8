package main

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeEndsLeftoverHoldingItsPort: a function's setsid'd child that
// binds albedo's own address once a SIGKILLed albedo let it go does not
// keep the next albedo with the same state_dir from starting: it is a
// leftover of that state_dir, ended before the sockets are bound again.
// Before, start-up failed with "address already in use" until someone
// found and killed the process by hand.
func TestServeEndsLeftoverHoldingItsPort(t *testing.T) {
	t.Parallel()
	sb := startSandboxAlbedo(t)
	admin, cfgPath, logPath, first := sb.admin, sb.cfgPath, sb.logPath, sb.first
	a := sb.invoke(t, `{"squat":"`+admin+`"}`)
	t.Cleanup(func() { // when the test fails before the second albedo ends it
		if alive(a.ChildPID) {
			syscall.Kill(a.ChildPID, syscall.SIGKILL)
		}
	})
	first.kill()
	// The squatter takes the address within 20 ms of albedo's death.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", admin)
		if err == nil {
			ln.Close()
		} else if errors.Is(err, syscall.EADDRINUSE) { // albedo is dead: kill waited
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the squatter %d never took %s (alive %v)", a.ChildPID, admin, alive(a.ChildPID))
		}
		time.Sleep(10 * time.Millisecond)
	}

	second := startAlbedoChild(t, cfgPath, logPath)
	sb.waitSecond(t, second, deadline.Add(30*time.Second))
	if alive(a.ChildPID) {
		t.Errorf("the squatter %d still runs", a.ChildPID)
	}
	if !strings.Contains(logTail(logPath), "an address was busy: ended the processes a previous albedo") {
		t.Errorf("start-up log does not say why it bound twice:\n%s", logTail(logPath))
	}
	sb.interrupt(t, second)
}
