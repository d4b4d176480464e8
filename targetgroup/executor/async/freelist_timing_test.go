package async

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkEnqueueFreelist measures NoFreelistSync: Enqueue with the
// freelist rebuilt at Open (as the queue runs) and written with every
// commit, on a fresh queue and on an aged one (agedEvents stored, a third
// of them deleted again as deliveries do, so the file holds many free
// pages), one caller and 64. wchar-B/op is what bbolt hands to write(2)
// per accepted event (Linux); open-ms is Open of the aged queue.
func BenchmarkEnqueueFreelist(b *testing.B) {
	for _, age := range []string{"fresh", "aged"} {
		for _, syncFreelist := range []bool{false, true} {
			mode := "nofreelistsync"
			if syncFreelist {
				mode = "syncfreelist"
			}
			for _, callers := range []int{1, 64} {
				b.Run(fmt.Sprintf("%s/%s/callers=%d", age, mode, callers), func(b *testing.B) {
					benchEnqueueFreelist(b, age == "aged", syncFreelist, callers)
				})
			}
		}
	}
}

const agedEvents = 30000

// agedQueue is the aged queue.db for each setting, built once per process.
var agedQueue = map[bool]func() ([]byte, error){
	false: sync.OnceValues(func() ([]byte, error) { return buildAgedQueue(false) }),
	true:  sync.OnceValues(func() ([]byte, error) { return buildAgedQueue(true) }),
}

func buildAgedQueue(syncFreelist bool) ([]byte, error) {
	dir, err := os.MkdirTemp("", "albedo-aged-queue-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	inv := newFakeInvoker()
	inv.add("noop", -1, nil)
	q, err := Open(Options{Dir: dir, Workers: 1, syncFreelist: syncFreelist}, inv)
	if err != nil {
		return nil, err
	}
	enqueueN(nil, q, agedEvents, 64)
	err = q.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		i := 0
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if i%3 == 0 {
				if err := c.Delete(); err != nil {
					return err
				}
			}
			i++
		}
		return nil
	})
	if err := errors.Join(err, q.Close(context.Background())); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(dir, File))
}

func benchEnqueueFreelist(b *testing.B, aged, syncFreelist bool, callers int) {
	dir := b.TempDir()
	inv := newFakeInvoker()
	inv.add("noop", -1, nil)
	opts := Options{Dir: dir, Workers: 1, syncFreelist: syncFreelist}
	if aged {
		data, err := agedQueue[syncFreelist]()
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, File), data, 0o600)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	q, err := Open(opts, inv)
	if err != nil {
		b.Fatal(err)
	}
	opened := time.Since(start)
	b.Cleanup(func() { q.Close(context.Background()) })
	b.ReportAllocs()
	w0 := writtenBytes()
	start = time.Now()
	if callers == 1 {
		for b.Loop() {
			if _, err := q.Enqueue(context.Background(), "noop", benchPayload); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(callers / 2) // x GOMAXPROCS (2 here)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := q.Enqueue(context.Background(), "noop", benchPayload); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "accepted/s")
	if w1 := writtenBytes(); w0 >= 0 && w1 >= 0 {
		b.ReportMetric(float64(w1-w0)/float64(b.N), "wchar-B/op")
	}
	if st, err := os.Stat(filepath.Join(dir, File)); err == nil && aged {
		b.ReportMetric(float64(st.Size())/(1<<20), "file-MB")
		b.ReportMetric(float64(opened.Microseconds())/1e3, "open-ms")
	}
}

// writtenBytes is the process's wchar (bytes passed to write calls), -1
// where /proc/self/io does not exist.
func writtenBytes() int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		var v int64
		if _, err := fmt.Sscanf(line, "wchar: %d", &v); err == nil {
			return v
		}
	}
	return -1
}
