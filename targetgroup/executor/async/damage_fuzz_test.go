package async

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/albedo-lb/albedo/targetgroup/executor/statefile"
)

// smallQueue is a queue.db with 60 events in several pages and an API
// config change, made once per process.
var smallQueue = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "albedo-fuzz-queue-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	inv := newFakeInvoker()
	inv.add("noop", -1, nil)
	q, err := Open(Options{Dir: dir}, inv)
	if err != nil {
		return nil, err
	}
	for i := range 60 {
		if _, err := q.Enqueue(context.Background(), "noop", fmt.Appendf(nil, `{"id":%d,"pad":"%060d"}`, i, i)); err != nil {
			return nil, err
		}
	}
	if _, err := q.PutConfig("noop", Config{MaximumRetryAttempts: 1, MaximumEventAge: time.Hour}); err != nil {
		return nil, err
	}
	if err := q.Close(context.Background()); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(dir, File))
})

// FuzzDamagedQueue damages a small queue.db (data written at an offset,
// then optionally a truncation) and requires Open, statefile.Check and
// statefile.Salvage to return an error or succeed, never panic or hang,
// and a salvaged file to open.
func FuzzDamagedQueue(f *testing.F) {
	db, err := smallQueue()
	if err != nil {
		f.Fatal(err)
	}
	junk := make([]byte, 200)
	for i := range junk {
		junk[i] = byte(i*13 + 1)
	}
	for _, off := range []uint32{0, 16, 4096, 4096 + 16, 2 * 4096, 3*4096 + 40, 4*4096 + 2000, uint32(len(db)) / 2, uint32(len(db)) - 300} {
		f.Add(off, junk, uint32(0))
		f.Add(off, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, uint32(0))
	}
	f.Add(uint32(0), []byte{}, uint32(len(db)/2))
	f.Add(uint32(0), []byte{}, uint32(5000))
	f.Add(uint32(0), []byte{}, uint32(100))
	f.Fuzz(func(t *testing.T, off uint32, data []byte, truncate uint32) {
		b := append([]byte(nil), db...)
		if len(data) > 4096 {
			data = data[:4096]
		}
		if o := int(off) % len(b); len(data) > 0 {
			copy(b[o:], data)
		}
		if truncate > 0 {
			b = b[:int(truncate)%len(b)]
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, File), b, 0o600); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		timer := time.AfterFunc(20*time.Second, func() {
			select {
			case <-done:
			default:
				panic("check, open or salvage of a damaged queue.db hangs") // a hang fails the fuzz run with all stacks
			}
		})
		defer timer.Stop()
		defer close(done)

		inv := newFakeInvoker()
		inv.add("noop", -1, nil)
		if q, err := Open(Options{Dir: dir}, inv); err == nil {
			_ = q.Close(context.Background())
		} else if !errors.Is(err, statefile.ErrDamaged) {
			t.Fatalf("Open: %v, want success or a DamagedError", err)
		}
		if _, err := statefile.Check(dir, StateFile, time.Second); err != nil && !errors.Is(err, statefile.ErrDamaged) {
			t.Fatalf("Check: %v, want success or a DamagedError", err)
		}
		if _, err := statefile.Salvage(dir, StateFile, time.Second, time.Now()); err != nil {
			t.Fatalf("Salvage: %v", err)
		}
		q, err := Open(Options{Dir: dir}, inv)
		if err != nil {
			t.Fatalf("Open after Salvage: %v", err)
		}
		_ = q.Close(context.Background())
	})
}
