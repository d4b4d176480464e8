package async

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func openTestDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "t.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return db
}

func put(k string) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte(k), []byte("v")) }
}

func keys(t *testing.T, db *bolt.DB) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("b")).ForEach(func(k, _ []byte) error { got[string(k)] = true; return nil })
	})
	return got
}

// TestCommitterIsolatesFailures: a failing write in a batch fails alone;
// the others are committed.
func TestCommitterIsolatesFailures(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	c := &committer{db: db}
	boom := errors.New("boom")
	batch := []writeOp{
		{fn: put("a"), done: make(chan error, 1)},
		{fn: func(*bolt.Tx) error { return boom }, done: make(chan error, 1)},
		{fn: put("c"), done: make(chan error, 1)},
	}
	c.commit(batch)
	want := []error{nil, boom, nil}
	for i, op := range batch {
		if err := <-op.done; !errors.Is(err, want[i]) {
			t.Errorf("op %d: err = %v, want %v", i, err, want[i])
		}
	}
	if got := keys(t, db); !got["a"] || !got["c"] || len(got) != 2 {
		t.Errorf("stored keys %v, want a and c", got)
	}
}

func TestCommitterConcurrentWrites(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	c := newCommitter(db)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if err := c.write(put(fmt.Sprint(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c.close()
	if err := c.write(put("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close = %v, want ErrClosed", err)
	}
	if got := keys(t, db); len(got) != 200 {
		t.Errorf("stored %d keys, want 200", len(got))
	}
}
