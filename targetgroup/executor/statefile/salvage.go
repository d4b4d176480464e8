package statefile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SalvageReport is what Salvage did to one state file.
type SalvageReport struct {
	Path string
	// Aside is where the damaged file now is ("" when Missing).
	Aside   string
	Missing bool
	// Buckets counts per Spec bucket: Kept records copied into the fresh
	// file, Lost records found damaged, LostPages pages that could not be
	// read (their records cannot be counted); Found false when the bucket
	// could not be reached at all.
	Buckets []BucketReport
	// Problems are the first problems met (of Total).
	Problems []string
	Total    int
}

// Salvage copies every readable record of dir/spec.Name's Spec buckets
// into a fresh file and puts that in its place; the damaged file is kept
// as "<name>.damaged-<UTC time>" (20060102T150405Z). It walks the file
// from its newest valid meta page (the older one when the newest's root
// page cannot be read), page by page, going on past every unreadable page,
// element or record, so a bad leaf page loses only what it holds (a bad
// branch page, also the pages below it: see the package doc). Records are
// kept only when their Bucket.Check passes. The bucket sequences are
// carried over (at least the largest kept key for SequenceKeys buckets),
// so new keys never reuse old ones. It fails with ErrLocked, without
// reading anything, while another process holds the file (waiting up to
// timeout).
func Salvage(dir string, spec Spec, timeout time.Duration, now time.Time) (SalvageReport, error) {
	path := filepath.Join(dir, spec.Name)
	rep := SalvageReport{Path: path}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		rep.Missing = true
		return rep, nil
	}
	if err != nil {
		return rep, err
	}
	defer f.Close() // after the swap: another albedo waits for the lock meanwhile
	if err := lock(f, true, timeout); err != nil {
		return rep, err
	}
	st, err := f.Stat()
	if err != nil {
		return rep, err
	}

	tmp := path + ".salvage"
	if err := os.Remove(tmp); err != nil && !os.IsNotExist(err) {
		return rep, err
	}
	out, err := newCopier(tmp, &spec)
	if err != nil {
		return rep, err
	}
	w := salvageWalk(f, st.Size(), &spec, out)
	if err := out.finish(w); err != nil {
		_ = os.Remove(tmp)
		return rep, fmt.Errorf("statefile: salvage %s: %w", path, err)
	}
	rep.Buckets, rep.Problems, rep.Total = w.buckets, w.problems, w.total
	for i := range rep.Buckets {
		rep.Buckets[i].Kept -= out.dups[i]
	}
	rep.Aside, err = swap(path, tmp, now)
	if err != nil {
		_ = os.Remove(tmp)
		return rep, fmt.Errorf("statefile: salvage %s: %w", path, err)
	}
	return rep, nil
}

// salvageWalk walks the file into out from the newest meta page whose
// root page can be read.
func salvageWalk(f *os.File, size int64, spec *Spec, out *copier) *walker {
	readers, err := newReader(f, size)
	if len(readers) == 0 {
		w := newWalker(nil, spec, nil)
		w.problem("no readable meta page, nothing can be found: %v", err)
		return w
	}
	var w *walker
	for _, r := range readers {
		w = newWalker(r, spec, out.add)
		if _, err := r.page(r.m.root, nil); err == nil {
			break
		}
	}
	w.walk()
	return w
}

// copier writes salvaged records into the fresh file in batches.
type copier struct {
	db    *bolt.DB
	spec  *Spec
	batch []kv
	bytes int
	dups  []int // per bucket: keys met twice (kept once)
	err   error
}

type kv struct {
	b    int
	k, v []byte
}

// Batch bounds: bbolt keeps a transaction's keys and values in memory
// until it commits.
const (
	batchRecords = 1000
	batchBytes   = 8 << 20
)

func newCopier(path string, spec *Spec) (*copier, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("statefile: create %s: %w", path, err)
	}
	c := &copier{db: db, spec: spec, dups: make([]int, len(spec.Buckets))}
	c.err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range spec.Buckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(b.Name)); err != nil {
				return err
			}
		}
		return nil
	})
	return c, nil
}

// add copies one record (k and v alias a page buffer of the walk).
func (c *copier) add(b int, k, v []byte) {
	c.batch = append(c.batch, kv{b, bytes.Clone(k), bytes.Clone(v)})
	c.bytes += len(k) + len(v)
	if len(c.batch) >= batchRecords || c.bytes >= batchBytes {
		c.flush()
	}
}

func (c *copier) flush() {
	if c.err != nil || len(c.batch) == 0 {
		c.batch, c.bytes = c.batch[:0], 0
		return
	}
	c.err = c.db.Update(func(tx *bolt.Tx) error {
		for _, r := range c.batch {
			bk := tx.Bucket([]byte(c.spec.Buckets[r.b].Name))
			if bk.Get(r.k) != nil {
				c.dups[r.b]++
			}
			if err := bk.Put(r.k, r.v); err != nil {
				return err
			}
		}
		return nil
	})
	c.batch, c.bytes = c.batch[:0], 0
}

// finish writes the last batch and the bucket sequences, and closes the
// fresh file.
func (c *copier) finish(w *walker) error {
	c.flush()
	if c.err == nil {
		c.err = c.db.Update(func(tx *bolt.Tx) error {
			for i, b := range w.buckets {
				seq := b.sequence
				if c.spec.Buckets[i].SequenceKeys {
					seq = max(seq, b.maxKey)
				}
				if err := tx.Bucket([]byte(b.Name)).SetSequence(seq); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return errors.Join(c.err, c.db.Close())
}

// swap keeps the damaged file at path under an aside name and moves tmp
// to path. A hard link, then a rename over path, means that path names
// the damaged or the fresh file at every moment.
func swap(path, tmp string, now time.Time) (string, error) {
	base := path + ".damaged-" + now.UTC().Format("20060102T150405Z")
	aside := base
	for i := 2; ; i++ {
		err := os.Link(path, aside)
		if err == nil {
			break
		}
		if !os.IsExist(err) {
			// No hard links here: rename, leaving a moment without path.
			if err := os.Rename(path, aside); err != nil {
				return "", err
			}
			break
		}
		aside = base + "-" + strconv.Itoa(i)
	}
	if err := os.Rename(tmp, path); err != nil {
		return aside, err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // the renames survive a crash
		d.Close()
	}
	return aside, nil
}
