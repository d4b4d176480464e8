package intake

import "testing"

// FuzzScan: however the bytes of a connection are split into reads, Conn
// finds the same end of the header block as a direct search for the first
// blank line ("\n" after "\n" or after "\n\r"), and calls it bad exactly
// when that line is not CRLF CRLF.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: h\r\n\r\nbody\n\n",
		"GET / HTTP/1.1\nHost: h\n\n",
		"GET / HTTP/1.1\r\nHost: h\n\r\n",
		"\r\n\r\n", "\n\n", "\r\n\n", "x\r\r\n\n", "\n", "",
	} {
		f.Add([]byte(s), uint8(1), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, a, b uint8) {
		wantEnd := -1
		at := func(i int) byte {
			if i < 0 {
				return 0
			}
			return data[i]
		}
		for i, c := range data {
			if c == '\n' && (at(i-1) == '\n' || (at(i-1) == '\r' && at(i-2) == '\n')) {
				wantEnd = i
				break
			}
		}
		wantBad := wantEnd >= 0 && !(at(wantEnd-3) == '\r' && at(wantEnd-2) == '\n' && at(wantEnd-1) == '\r')

		c := &Conn{armed: true}
		sizes := []int{int(a)%7 + 1, int(b)%11 + 1}
		for i, rest := 0, data; len(rest) > 0 && c.armed; i++ {
			n := min(sizes[i%2], len(rest))
			c.scan(rest[:n])
			rest = rest[n:]
		}
		if c.armed != (wantEnd < 0) || c.bad != wantBad {
			t.Fatalf("%q: armed %v bad %v, want end at %d (bad %v)", data, c.armed, c.bad, wantEnd, wantBad)
		}
	})
}
