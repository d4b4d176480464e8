package executor

import (
	"log/slog"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// BenchmarkSandbox measures one sandbox's life around a process that exits
// at once (/bin/true): create it, start the process in it (for a cgroup
// v1: the side thread's join, fork, exec and return), and kill and remove
// it once the process is reaped, in a cgroup and in process groups. The
// difference is what a cgroup adds to a cold start.
func BenchmarkSandbox(b *testing.B) {
	for _, iso := range isolations {
		b.Run(iso.name, func(b *testing.B) {
			name := testCgroupName()
			if iso.cgroup == noCgroups {
				name = ""
			}
			is := newIsolation(name, false, slog.New(slog.DiscardHandler))
			b.Cleanup(func() { is.close() })
			if _, ok := is.(procGroups); ok && iso.cgroup != noCgroups {
				b.Skipf("no cgroups: %s", is)
			}
			fn := &function{cfg: Function{MemorySize: 128, CPUModel: CPUModelHost}}
			var create, start, release time.Duration
			for i := 0; b.Loop(); i++ {
				t0 := time.Now()
				sb, err := is.newSandbox("bench-"+strconv.Itoa(i), fn)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				cmd := exec.Command("/bin/true")
				cmd.SysProcAttr = runtimeProcAttr()
				if err := sb.start(cmd); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				cmd.Wait()
				t3 := time.Now()
				sb.kill()
				if err := sb.release(); err != nil {
					b.Fatal(err)
				}
				create += t1.Sub(t0)
				start += t2.Sub(t1)
				release += time.Since(t3)
			}
			n := float64(b.N)
			b.ReportMetric(float64(create.Microseconds())/n, "create-µs")
			b.ReportMetric(float64(start.Microseconds())/n, "start-µs")
			b.ReportMetric(float64(release.Microseconds())/n, "release-µs")
		})
	}
}

// BenchmarkReadCgroupPeak measures the memory peak read done at the end of
// every invocation in a cgroup (compare BenchmarkReadResident, its
// process-group counterpart).
func BenchmarkReadCgroupPeak(b *testing.B) {
	is := newIsolation(testCgroupName(), false, slog.New(slog.DiscardHandler))
	b.Cleanup(func() { is.close() })
	if _, ok := is.(procGroups); ok {
		b.Skipf("no cgroups: %s", is)
	}
	sb, err := is.newSandbox("peak", &function{cfg: Function{MemorySize: 128, CPUModel: CPUModelHost}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sb.release() })
	b.ReportAllocs()
	for b.Loop() {
		if sb.peakKB() < 0 {
			b.Fatal("no memory peak")
		}
	}
}
