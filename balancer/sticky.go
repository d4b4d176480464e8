package balancer

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"sync"
	"time"
)

// Stickiness cookie names, as ALB uses them for target-group stickiness.
const (
	CookieName     = "AWSALBTG"
	CookieNameCORS = "AWSALBTGCORS"
)

// maxCookieValue bounds the cookie value we try to decode; real values are
// about 90 bytes (a target-group name is at most 32).
const maxCookieValue = 256

var cookieEncoding = base64.RawURLEncoding

// cookieSigner issues and verifies AWSALBTG values:
//
//	base64url(expiry || group) "." base64url(HMAC-SHA256(key, action || 0 || expiry || group))
//
// expiry is the Unix second (8 bytes, big endian) after which the value is
// no longer honoured. The MAC binds the value to the issuing action, so a
// cookie from one rule is not honoured by another, and a client can neither
// forge a group nor extend the expiry. Safe for concurrent use.
type cookieSigner struct {
	key  []byte
	pool sync.Pool // hash.Hash: HMAC-SHA256 keyed with key
}

func newCookieSigner(key []byte) *cookieSigner {
	s := &cookieSigner{key: bytes.Clone(key)}
	s.pool.New = func() any { return hmac.New(sha256.New, s.key) }
	return s
}

// sum appends the MAC of (action, payload) to dst.
func (s *cookieSigner) sum(dst []byte, action string, payload []byte) []byte {
	h := s.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(action))
	h.Write([]byte{0})
	h.Write(payload)
	dst = h.Sum(dst)
	s.pool.Put(h)
	return dst
}

// appendValue appends a signed value for group, valid until expiry.
func (s *cookieSigner) appendValue(dst []byte, action, group string, expiry time.Time) []byte {
	var buf [8 + maxCookieValue]byte
	payload := binary.BigEndian.AppendUint64(buf[:0], uint64(expiry.Unix()))
	payload = append(payload, group...)
	dst = cookieEncoding.AppendEncode(dst, payload)
	dst = append(dst, '.')
	var macBuf [sha256.Size]byte
	return cookieEncoding.AppendEncode(dst, s.sum(macBuf[:0], action, payload))
}

// verify returns the group named by a value issued by action that has not
// expired at now. ok is false for anything malformed, forged or expired.
// group aliases scratch.
func (s *cookieSigner) verify(scratch *[maxCookieValue]byte, value []byte, action string, now time.Time) (group []byte, ok bool) {
	if len(value) == 0 || len(value) > maxCookieValue {
		return nil, false
	}
	dot := bytes.IndexByte(value, '.')
	if dot < 0 {
		return nil, false
	}
	payload, err := cookieEncoding.AppendDecode(scratch[:0], value[:dot])
	if err != nil || len(payload) < 8 {
		return nil, false
	}
	var gotBuf, wantBuf [sha256.Size]byte
	got, err := cookieEncoding.AppendDecode(gotBuf[:0], value[dot+1:])
	if err != nil || len(got) != sha256.Size {
		return nil, false
	}
	if !hmac.Equal(got, s.sum(wantBuf[:0], action, payload)) {
		return nil, false
	}
	if int64(binary.BigEndian.Uint64(payload)) <= now.Unix() {
		return nil, false
	}
	return payload[8:], true
}
