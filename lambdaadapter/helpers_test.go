package lambdaadapter

import (
	"bufio"
	"net/netip"
	"strings"
)

var testClientIP = netip.MustParseAddr("198.51.100.9")

func bufioReader(s string) *bufio.Reader {
	return bufio.NewReaderSize(strings.NewReader(s), 64<<10)
}
