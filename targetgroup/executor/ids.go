package executor

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// newRequestID is NewRequestID, the package's own spelling.
func newRequestID() string { return NewRequestID() }

// NewRequestID returns a random (version 4) UUID, the form of Lambda's
// request ids. The async queue and the Invoke API use it too, so every id
// albedo hands out has one shape.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return FormatUUID(b)
}

// FormatUUID sets b's version-4 and variant bits and formats it as a
// canonical 36-character UUID.
func FormatUUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// newTraceID returns an X-Ray trace header for an untraced request, as
// Lambda passes it when the caller sent none:
// Root=1-{8 hex epoch seconds}-{24 hex};Parent={16 hex};Sampled=0.
func newTraceID(now time.Time) string {
	var b [20]byte
	rand.Read(b[:])
	buf := make([]byte, 0, 80)
	buf = append(buf, "Root=1-"...)
	var ts [4]byte
	binary.BigEndian.PutUint32(ts[:], uint32(now.Unix()))
	buf = hex.AppendEncode(buf, ts[:])
	buf = append(buf, '-')
	buf = hex.AppendEncode(buf, b[:12])
	buf = append(buf, ";Parent="...)
	buf = hex.AppendEncode(buf, b[12:])
	buf = append(buf, ";Sampled=0"...)
	return string(buf)
}

// newHex returns n random bytes in hex.
func newHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
