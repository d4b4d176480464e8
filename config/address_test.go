package config

import "testing"

func TestHostsClash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b  string
		clash bool
	}{
		{"", "", true},
		{"", "127.0.0.1", true},
		{"0.0.0.0", "::1", true},
		{"::", "localhost", true},
		{"[::]", "example.com", true},
		{"127.0.0.1", "localhost", true},
		{"LOCALHOST.", "::1", true},
		{"localhost", "[::1]", true},
		{"::1", "[::1]", true},
		{"::ffff:127.0.0.1", "127.0.0.1", true},
		{"Example.com", "example.com", true},
		{"127.0.0.1", "127.0.0.2", false},
		{"127.0.0.1", "::1", false},
		{"localhost", "127.0.0.2", false},
		{"example.com", "127.0.0.1", false}, // names are not resolved
		{"a.example.com", "b.example.com", false},
	}
	for _, tt := range tests {
		for _, pair := range [][2]string{{tt.a, tt.b}, {tt.b, tt.a}} {
			clash, why := hostsClash(pair[0], pair[1])
			if clash != tt.clash {
				t.Errorf("hostsClash(%q, %q) = %t (%s), want %t", pair[0], pair[1], clash, why, tt.clash)
			}
		}
	}
}
