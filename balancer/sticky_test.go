package balancer

import (
	"bytes"
	"testing"
	"time"
)

func TestCookieSigner(t *testing.T) {
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	s := newCookieSigner([]byte("test-key"))
	valid := s.appendValue(nil, "80/10", "blue", now.Add(time.Hour))
	tamper := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 1
		return c
	}
	tests := []struct {
		name   string
		signer *cookieSigner
		value  []byte
		action string
		now    time.Time
		want   string
		ok     bool
	}{
		{name: "valid", signer: s, value: valid, action: "80/10", now: now, want: "blue", ok: true},
		{name: "expired", signer: s, value: valid, action: "80/10", now: now.Add(time.Hour), ok: false},
		{name: "other action", signer: s, value: valid, action: "80/20", now: now, ok: false},
		{name: "other key", signer: newCookieSigner([]byte("other")), value: valid, action: "80/10", now: now, ok: false},
		{name: "payload tampered", signer: s, value: tamper(valid, 3), action: "80/10", now: now, ok: false},
		{name: "mac tampered", signer: s, value: tamper(valid, len(valid)-2), action: "80/10", now: now, ok: false},
		{name: "no dot", signer: s, value: []byte("abc"), action: "80/10", now: now, ok: false},
		{name: "empty", signer: s, value: nil, action: "80/10", now: now, ok: false},
		{name: "forged unsigned", signer: s, value: append(s.appendValue(nil, "80/10", "green", now.Add(time.Hour))[:20:20], ".AAAA"...), action: "80/10", now: now, ok: false},
		{name: "too long", signer: s, value: bytes.Repeat([]byte("a"), maxCookieValue+1), action: "80/10", now: now, ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var scratch [maxCookieValue]byte
			got, ok := tt.signer.verify(&scratch, tt.value, tt.action, tt.now)
			if ok != tt.ok || string(got) != tt.want {
				t.Errorf("verify = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzCookieVerify(f *testing.F) {
	s := newCookieSigner([]byte("fuzz-key"))
	now := time.Unix(1_800_000_000, 0)
	f.Add(string(s.appendValue(nil, "a", "blue", now.Add(time.Minute))))
	f.Add("AAAAAAAAAAA.BBBB")
	f.Add(".")
	f.Fuzz(func(t *testing.T, value string) {
		var scratch [maxCookieValue]byte
		group, ok := s.verify(&scratch, []byte(value), "a", now)
		if !ok {
			return
		}
		// Only the seeded, genuinely signed group can ever be accepted.
		if string(group) != "blue" {
			t.Fatalf("accepted forged value %q naming %q", value, group)
		}
	})
}
