package async

import (
	"context"
	"testing"
	"time"
)

// BenchmarkDeliverRealNoop1000: 1,000 stored events delivered to the real
// noop function (aws-lambda-go bootstrap) through the executor pool.
func BenchmarkDeliverRealNoop1000(b *testing.B) {
	const n = 1000
	pool := realPool(b, realFn(b, "noop", "noop", -1))
	b.ReportAllocs()
	var total time.Duration
	var requeued int64
	for b.Loop() {
		b.StopTimer()
		q, err := Open(Options{Dir: b.TempDir(), Workers: 8}, pool)
		if err != nil {
			b.Fatal(err)
		}
		enqueueN(b, q, n, 32)
		b.StartTimer()
		start := time.Now()
		q.Start()
		for q.Stats().Pending > 0 {
			time.Sleep(100 * time.Microsecond)
		}
		total += time.Since(start)
		b.StopTimer()
		s := q.Stats()
		if s.Succeeded != n {
			b.Fatalf("stats %+v", s)
		}
		requeued += s.Requeued
		q.Close(context.Background())
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "delivered/s")
	b.ReportMetric(float64(requeued)/float64(b.N), "throttles/op")
}
