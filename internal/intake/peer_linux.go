package intake

import "golang.org/x/sys/unix"

// tcpEstablished is TCP_ESTABLISHED of the kernel's tcp_states.h: any
// other state of an accepted socket albedo has not closed means the peer
// sent FIN (CLOSE_WAIT) or RST (CLOSE).
const tcpEstablished = 1

// checkFD reads the socket's TCP state, the first byte of struct
// tcp_info (the kernel copies as many bytes as asked for). Unlike a
// MSG_PEEK for EOF, it also sees a TLS client's close, which sends a
// close_notify record before its FIN.
func (c *Conn) checkFD(fd uintptr) {
	state, err := unix.GetsockoptByte(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	c.gone = err == nil && state != tcpEstablished
}
