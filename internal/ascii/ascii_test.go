package ascii

import (
	"bytes"
	"strings"
	"testing"
)

func TestIsTokenChar(t *testing.T) {
	t.Parallel()
	// RFC 9110 §5.6.2, spelled out.
	const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for c := range 256 {
		want := strings.IndexByte(tchar, byte(c)) >= 0
		if got := IsTokenChar(byte(c)); got != want {
			t.Errorf("IsTokenChar(%q) = %v, want %v", rune(c), got, want)
		}
	}
}

func TestEqualFold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		b, s string
		want bool
	}{
		{name: "same", b: "upgrade", s: "upgrade", want: true},
		{name: "mixed case", b: "WebSocket", s: "websocket", want: true},
		{name: "both upper", b: "PROXY-", s: "Proxy-", want: true},
		{name: "longer", b: "te", s: "tee", want: false},
		{name: "different letter", b: "te", s: "ta", want: false},
		{name: "empty", b: "", s: "", want: true},
		{name: "not letters", b: "[", s: "{", want: false},
		{name: "kelvin sign is not k", b: "\u212a", s: "k", want: false},
		{name: "non-ASCII equal", b: "é", s: "é", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EqualFold([]byte(tt.b), tt.s); got != tt.want {
				t.Errorf("EqualFold(%q, %q) = %v, want %v", tt.b, tt.s, got, tt.want)
			}
		})
	}
}

func TestAppendLower(t *testing.T) {
	t.Parallel()
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	got := AppendLower([]byte("x"), all)
	want := append([]byte("x"), all...)
	for i := 1 + 'A'; i <= 1+'Z'; i++ {
		want[i] += 'a' - 'A'
	}
	if !bytes.Equal(got, want) {
		t.Errorf("AppendLower = %q, want %q", got, want)
	}
	for c := range 256 {
		if Lower(byte(c)) != want[1+c] {
			t.Errorf("Lower(%q) = %q", rune(c), Lower(byte(c)))
		}
	}
}
