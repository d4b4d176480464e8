package executor

import (
	"os"
	"testing"
)

func TestParseStatmResident(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
	}{
		{"1227 233 180 1 0 95 0\n", 233},
		{"1 2", 2},
		{"1 2\n", 2},
		{"", -1},
		{"12", -1},
		{"1 x 3", -1},
		{"1 -2 3", -1},
	}
	for _, tt := range tests {
		if got := parseStatmResident([]byte(tt.in)); got != tt.want {
			t.Errorf("parseStatmResident(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func FuzzParseStatmResident(f *testing.F) {
	f.Add([]byte("1227 233 180 1 0 95 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if v := parseStatmResident(b); v < -1 {
			t.Fatalf("%q: %d", b, v)
		}
	})
}

func TestResidentWithinPeak(t *testing.T) {
	t.Parallel()
	s := openStatus(os.Getpid())
	defer s.close()
	rss, hwm := s.residentKB(), s.readKB("VmHWM")
	if rss <= 0 || hwm <= 0 || rss > hwm {
		t.Fatalf("resident %d kB, peak %d kB", rss, hwm)
	}
}

func TestPeakRSS(t *testing.T) {
	t.Parallel()
	s := openStatus(os.Getpid())
	defer s.close()
	before := s.readKB("VmHWM")
	got, err := PeakRSS(os.Getpid())
	if err != nil || before <= 0 || got < before*1024 {
		t.Fatalf("PeakRSS = %d, %v; VmHWM read before it %d kB", got, err, before)
	}
	if _, err := PeakRSS(-1); err == nil {
		t.Error("PeakRSS(-1): no error")
	}
}
