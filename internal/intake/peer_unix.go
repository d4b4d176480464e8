//go:build unix && !linux

package intake

import "golang.org/x/sys/unix"

// checkFD peeks one byte without blocking: 0 bytes and no error is the
// peer's FIN; a reset is an error other than EAGAIN. Bytes waiting (a
// pipelined request, or a TLS close_notify) read as "still there".
func (c *Conn) checkFD(fd uintptr) {
	var b [1]byte
	n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	switch {
	case err == nil:
		c.gone = n == 0
	case err == unix.EAGAIN || err == unix.EINTR:
		c.gone = false
	default:
		c.gone = true
	}
}
