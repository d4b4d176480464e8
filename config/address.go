package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// A listen host is spelled many ways: "" and "0.0.0.0" and "::" all mean
// every interface (Go listens dual-stack on each), "localhost" is
// 127.0.0.1 and ::1, "[::1]" is "::1", "::ffff:127.0.0.1" is "127.0.0.1".
// hostsClash tells whether two listen hosts on one port would bind the
// same socket, whatever the spelling, and why for a message ("" when they
// are spelled alike). Other host names are compared as written, without
// resolving them: validate never touches the network.
func hostsClash(a, b string) (clash bool, why string) {
	na, nb := listenHost(a), listenHost(b)
	switch {
	case strings.EqualFold(a, b):
		return true, ""
	case na.any && nb.any:
		return true, spell(a) + " and " + spell(b) + " both mean all interfaces"
	case na.any:
		return true, spell(a) + " means all interfaces"
	case nb.any:
		return true, spell(b) + " means all interfaces"
	}
	for _, x := range na.addrs {
		for _, y := range nb.addrs {
			if x != y {
				continue
			}
			if na.localhost || nb.localhost {
				return true, "localhost is 127.0.0.1 and ::1"
			}
			return true, fmt.Sprintf("%q and %q are the same address", a, b)
		}
	}
	return false, ""
}

// spell quotes a host for a message; an empty one is "no address".
func spell(h string) string {
	if h == "" {
		return "no address"
	}
	return strconv.Quote(h)
}

// boundHost is what one listen host stands for.
type boundHost struct {
	any       bool
	localhost bool
	addrs     []string // normalized IPs, or the lower-cased host name
}

func listenHost(h string) boundHost {
	h = strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), "."))
	if h == "localhost" {
		return boundHost{localhost: true, addrs: []string{"127.0.0.1", "::1"}}
	}
	if a, err := netip.ParseAddr(h); err == nil {
		a = a.Unmap()
		if a.IsUnspecified() {
			return boundHost{any: true}
		}
		return boundHost{addrs: []string{a.WithZone("").String()}}
	}
	if h == "" {
		return boundHost{any: true}
	}
	return boundHost{addrs: []string{h}}
}

// portClash formats "port P is already used by OTHER" with the reason the
// spellings name one socket.
func portClash(port int, other, why string) string {
	if why == "" {
		return fmt.Sprintf("port %d is already used by %s", port, other)
	}
	return fmt.Sprintf("port %d is already used by %s (%s)", port, other, why)
}
