//go:build !unix

package intake

// checkFD cannot tell on this platform.
func (c *Conn) checkFD(uintptr) { c.gone = false }
