package executor

import (
	"os"
	"testing"
)

// BenchmarkReadHWM measures the peak-RSS read done at the end of every
// invocation.
func BenchmarkReadHWM(b *testing.B) {
	s := openStatus(os.Getpid())
	defer s.close()
	b.ReportAllocs()
	for b.Loop() {
		if s.readKB("VmHWM") <= 0 {
			b.Fatal("no VmHWM")
		}
	}
}

// BenchmarkReadResident measures the resident-set read done at the end of
// every invocation (the peak is read only when it grew).
func BenchmarkReadResident(b *testing.B) {
	s := openStatus(os.Getpid())
	defer s.close()
	b.ReportAllocs()
	for b.Loop() {
		if s.residentKB() <= 0 {
			b.Fatal("no resident set")
		}
	}
}
