package statefile

import (
	"bytes"
	"strings"
	"testing"
)

func TestSealed(t *testing.T) {
	t.Parallel()
	b, start := BeginSealed([]byte("prefix"), 7)
	b = append(b, "content"...)
	EndSealed(b, start)
	v := b[len("prefix"):]
	if v[0] != 7 {
		t.Fatalf("version byte %d, want 7", v[0])
	}
	if got, err := Unseal(v[1:]); err != nil || !bytes.Equal(got, []byte("content")) {
		t.Fatalf("Unseal = %q, %v", got, err)
	}
	for i := 1; i < len(v); i++ { // any changed byte after the version
		d := bytes.Clone(v)
		d[i] ^= 0x20
		if _, err := Unseal(d[1:]); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
			t.Errorf("byte %d changed: err = %v, want a checksum mismatch", i, err)
		}
	}
	if _, err := Unseal(v[1:4]); err == nil || err.Error() != "truncated" {
		t.Errorf("3 bytes: err = %v, want truncated", err)
	}
}
