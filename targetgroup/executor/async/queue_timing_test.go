package async

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func benchQueue(b *testing.B, workers int) (*Queue, *fakeInvoker) {
	b.Helper()
	inv := newFakeInvoker()
	inv.add("noop", -1, nil)
	q, err := Open(Options{Dir: b.TempDir(), Workers: workers}, inv)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { q.Close(context.Background()) })
	return q, inv
}

var benchPayload = []byte(`{"orderId":"9e07af03-ce31-4ff3-xmpl-36dce652cb4f","items":[1,2,3],"note":"a small async event"}`)

// BenchmarkEnqueue: one caller, so one transaction and fsync per event.
func BenchmarkEnqueue(b *testing.B) {
	q, _ := benchQueue(b, 1)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		if _, err := q.Enqueue(context.Background(), "noop", benchPayload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnqueueParallel: many callers share group commits. Each call
// still returns only after its own event is synced.
func BenchmarkEnqueueParallel(b *testing.B) {
	q, _ := benchQueue(b, 1)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	b.SetParallelism(32) // x GOMAXPROCS concurrent callers, like many SDK clients
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := q.Enqueue(context.Background(), "noop", benchPayload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "accepted/s")
}

// BenchmarkDeliver1000: 1,000 stored events delivered to a no-op function
// (each delivery ends with a delete, group-committed).
func BenchmarkDeliver1000(b *testing.B) {
	const n = 1000
	b.ReportAllocs()
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		q, _ := benchQueue(b, 64)
		enqueueN(b, q, n, 32)
		b.StartTimer()
		start := time.Now()
		q.Start()
		for q.Stats().Pending > 0 {
			time.Sleep(100 * time.Microsecond)
		}
		total += time.Since(start)
		b.StopTimer()
		q.Close(context.Background())
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "delivered/s")
}

// BenchmarkEndToEnd1000: 1,000 events accepted by 32 concurrent callers
// while the dispatcher delivers them, until all are finished.
func BenchmarkEndToEnd1000(b *testing.B) {
	const n = 1000
	q, _ := benchQueue(b, 64)
	q.Start()
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		enqueueN(b, q, n, 32)
		for q.Stats().Pending > 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "events/s")
}

func enqueueN(b *testing.B, q *Queue, n, callers int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, err := q.Enqueue(context.Background(), "noop", benchPayload); err != nil {
					panic(fmt.Sprint("enqueue: ", err))
				}
			}
		})
	}
	wg.Wait()
}
