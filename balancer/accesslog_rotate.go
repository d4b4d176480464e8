package balancer

import (
	"io"
)

// SetAccessLog directs the access log to w from the next line on, after
// the lines buffered so far were written to the previous writer: a log
// rotation (rename the file, then SIGUSR1) opens the new file, hands it
// here, then closes the old one, and no line is lost or lands in the
// wrong file. nil turns the access log off (buffered lines are written
// first); a balancer built without one gets its first with the first
// non-nil w. After Shutdown it returns ErrClosed. The caller owns both
// writers: the balancer never closes them.
func (b *Balancer) SetAccessLog(w io.Writer) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	a := b.alog.Load()
	switch {
	case a == nil && w == nil:
		return nil
	case a == nil:
		b.alog.Store(newAccessLog(w, b.elb))
		return nil
	case w == nil:
		// Requests that loaded a before the Store write into its buffer
		// after Close: lines in flight while the log is being turned off.
		b.alog.Store(nil)
		return a.Close()
	}
	return a.setWriter(w)
}

// setWriter flushes the buffer to the current writer, then writes to w.
func (a *accessLog) setWriter(w io.Writer) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.w.Flush()
	a.w.Reset(w)
	return err
}
