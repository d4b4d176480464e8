package statefile

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// lockRetry is how often a held lock is tried again (bbolt uses 50 ms).
const lockRetry = 50 * time.Millisecond

// lock takes a flock on f, exclusive or shared, the lock bbolt itself
// takes (a second flock on the same descriptor, by bbolt, then succeeds at
// once). It waits up to timeout, then fails with ErrLocked.
func lock(f *os.File, exclusive bool, timeout time.Duration) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		if !time.Now().Before(deadline) {
			return ErrLocked
		}
		time.Sleep(lockRetry)
	}
}
