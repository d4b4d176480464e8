package statefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// testSpec's records can be checked completely: every value is derived
// from its key, so any damage to a record is found.
var testSpec = Spec{
	Name:  "test.db",
	Holds: "test records",
	Buckets: []Bucket{
		{Name: "rec", Record: "record", Records: "records", SequenceKeys: true, Check: checkRecordValue},
		{Name: "cfg", Record: "setting", Records: "settings", Check: func(k, v []byte) error {
			if string(v) != "setting of "+string(k) {
				return errors.New("value does not match its key")
			}
			return nil
		}},
	},
}

func recordValue(seq uint64) []byte {
	return bytes.Repeat(fmt.Appendf(nil, "record %d;", seq), 8)
}

func checkRecordValue(k, v []byte) error {
	if len(k) != 8 {
		return fmt.Errorf("key of %d bytes", len(k))
	}
	if !bytes.Equal(v, recordValue(binary.BigEndian.Uint64(k))) {
		return errors.New("value does not match its key")
	}
	return nil
}

// testOptions are the async queue's options.
var testOptions = bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType, NoFreelistSync: true}

// buildTestFile writes n records (keys 1..n, every tenth deleted again, in
// transactions of 50, so there are free pages) and two settings, and
// returns the keys still stored.
func buildTestFile(t testing.TB, dir string, n int) map[uint64]bool {
	t.Helper()
	db, err := Open(dir, testSpec, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	live := map[uint64]bool{}
	for start := 0; start < n; start += 50 {
		err := db.Update(func(tx *bolt.Tx) error {
			rec, err := tx.CreateBucketIfNotExists([]byte("rec"))
			if err != nil {
				return err
			}
			for range min(50, n-start) {
				seq, _ := rec.NextSequence()
				if err := rec.Put(binary.BigEndian.AppendUint64(nil, seq), recordValue(seq)); err != nil {
					return err
				}
				live[seq] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err = db.Update(func(tx *bolt.Tx) error {
		cfg, err := tx.CreateBucketIfNotExists([]byte("cfg"))
		if err != nil {
			return err
		}
		for _, k := range []string{"a", "b"} {
			if err := cfg.Put([]byte(k), []byte("setting of "+k)); err != nil {
				return err
			}
		}
		rec := tx.Bucket([]byte("rec"))
		for seq := uint64(10); seq <= uint64(n); seq += 10 {
			if err := rec.Delete(binary.BigEndian.AppendUint64(nil, seq)); err != nil {
				return err
			}
			delete(live, seq)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return live
}

// layout is where the records of bucket rec are: its leaf pages and the
// keys on each, read before any damage.
type layout struct {
	ps      int64
	pages   int64 // high-water mark
	root    uint64
	leaves  []uint64
	keysOn  map[uint64][]uint64
	branchy bool // rec's root is a branch page
}

func readLayout(t testing.TB, path string) layout {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readers, err := newReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	r := readers[0]
	l := layout{ps: int64(r.ps), pages: int64(r.m.pgid), keysOn: map[uint64][]uint64{}}
	rootPage, err := r.page(r.m.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rootPage.count {
		_, k, v, err := rootPage.leaf(i)
		if err != nil {
			t.Fatal(err)
		}
		if string(k) == "rec" {
			l.root = ne.Uint64(v)
		}
	}
	var walk func(id uint64)
	walk = func(id uint64) {
		p, err := r.page(id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.flags == branchPageFlag {
			if id == l.root {
				l.branchy = true
			}
			for i := range p.count {
				_, child, _ := p.branch(i)
				walk(child)
			}
			return
		}
		l.leaves = append(l.leaves, id)
		for i := range p.count {
			_, k, _, _ := p.leaf(i)
			l.keysOn[id] = append(l.keysOn[id], binary.BigEndian.Uint64(k))
		}
	}
	walk(l.root)
	return l
}

// usedMiddle is the file offset 100 bytes before the middle of the keys
// and values on leaf page id.
func usedMiddle(t testing.TB, path string, l layout, id uint64) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off := int64(id) * l.ps
	p := page{id: id, flags: leafPageFlag, count: int(ne.Uint16(b[off+10:])), buf: b[off : off+l.ps]}
	start := int64(pageHeaderSize + p.count*elementSize)
	end := start
	for i := range p.count {
		_, _, v, err := p.leaf(i)
		if err != nil {
			t.Fatal(err)
		}
		end = max(end, int64(cap(p.buf)-cap(v))+int64(len(v)))
	}
	return off + (start+end)/2 - 100
}

func overwrite(t testing.TB, path string, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
}

// readAll returns the rec keys of a sound file (opened with Open).
func readAll(t testing.TB, dir string) map[uint64]bool {
	t.Helper()
	db, err := Open(dir, testSpec, testOptions)
	if err != nil {
		t.Fatalf("open after salvage: %v", err)
	}
	defer db.Close()
	got := map[uint64]bool{}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("rec")).ForEach(func(k, _ []byte) error {
			got[binary.BigEndian.Uint64(k)] = true
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestSoundFile(t *testing.T) {
	dir := t.TempDir()
	live := buildTestFile(t, dir, 600)
	rep, err := Check(dir, testSpec, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Buckets[0].Kept != len(live) || rep.Buckets[1].Kept != 2 || rep.Buckets[0].Lost+rep.Buckets[0].LostPages != 0 {
		t.Errorf("check report %+v, want %d records and 2 settings", rep.Buckets, len(live))
	}
	if got := readAll(t, dir); len(got) != len(live) {
		t.Errorf("open: %d records, want %d", len(got), len(live))
	}
	if rep, err := Check(t.TempDir(), testSpec, time.Second); err != nil || !rep.Missing {
		t.Errorf("missing file: %+v, %v", rep, err)
	}
}

// TestDamage damages a file in the ways a disk or a person can, and
// requires Open and Check to report it (naming the file) and Salvage to
// keep every record outside the damage, in a file Open accepts.
func TestDamage(t *testing.T) {
	const n = 600
	tests := []struct {
		name string
		// damage changes the file; it returns the keys the damage may
		// destroy (nil: any).
		damage func(t *testing.T, path string, l layout) []uint64
		sound  bool // the file is still fine (bbolt tolerates it)
	}{
		{name: "truncated to half", damage: func(t *testing.T, path string, l layout) []uint64 {
			if err := os.Truncate(path, l.pages*l.ps/2); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
		{name: "truncated inside the meta pages", damage: func(t *testing.T, path string, l layout) []uint64 {
			if err := os.Truncate(path, 3000); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
		{name: "leaf page header overwritten", damage: func(t *testing.T, path string, l layout) []uint64 {
			id := l.leaves[len(l.leaves)/2]
			overwrite(t, path, int64(id)*l.ps, bytes.Repeat([]byte{0xab}, 200))
			return l.keysOn[id]
		}},
		{name: "200 bytes in the middle of a leaf page", damage: func(t *testing.T, path string, l layout) []uint64 {
			id := l.leaves[len(l.leaves)/2]
			data := make([]byte, 200)
			for i := range data {
				data[i] = byte(i)
			}
			overwrite(t, path, usedMiddle(t, path, l, id), data)
			return l.keysOn[id]
		}},
		{name: "branch page overwritten", damage: func(t *testing.T, path string, l layout) []uint64 {
			if !l.branchy {
				t.Fatal("bucket rec has a single page: make the test file larger")
			}
			overwrite(t, path, int64(l.root)*l.ps+20, bytes.Repeat([]byte{0xff}, 200))
			return nil
		}},
		{name: "both meta pages overwritten", damage: func(t *testing.T, path string, l layout) []uint64 {
			overwrite(t, path, 16, bytes.Repeat([]byte{0}, 64))
			overwrite(t, path, l.ps+16, bytes.Repeat([]byte{0}, 64))
			return nil
		}},
		{name: "one meta page torn", sound: true, damage: func(t *testing.T, path string, l layout) []uint64 {
			overwrite(t, path, 40, []byte("torn"))
			return []uint64{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, testSpec.Name)
			live := buildTestFile(t, dir, n)
			l := readLayout(t, path)
			at := tt.damage(t, path, l)
			damaged, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			db, err := Open(dir, testSpec, testOptions)
			if err == nil {
				db.Close()
			}
			_, cerr := Check(dir, testSpec, time.Second)
			for what, err := range map[string]error{"Open": err, "Check": cerr} {
				if tt.sound {
					if err != nil {
						t.Errorf("%s: %v", what, err)
					}
					continue
				}
				var d *DamagedError
				if !errors.As(err, &d) || !errors.Is(err, ErrDamaged) || d.Path != path || d.Holds != testSpec.Holds || !strings.Contains(err.Error(), path) {
					t.Fatalf("%s: %v, want a *DamagedError for %s", what, err, path)
				}
			}
			if tt.sound {
				return
			}

			when := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
			rep, err := Salvage(dir, testSpec, time.Second, when)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("salvage: %+v", rep)
			if want := path + ".damaged-20260304T050607Z"; rep.Aside != want {
				t.Errorf("aside %q, want %q", rep.Aside, want)
			}
			if aside, err := os.ReadFile(rep.Aside); err != nil || !bytes.Equal(aside, damaged) {
				t.Errorf("the damaged file was not kept as it was (%v)", err)
			}
			got := readAll(t, dir)
			if len(got) != rep.Buckets[0].Kept {
				t.Errorf("salvaged file holds %d records, report says %d kept", len(got), rep.Buckets[0].Kept)
			}
			for k := range got {
				if !live[k] {
					t.Errorf("record %d was deleted before the damage but salvaged", k)
				}
			}
			if at != nil {
				mayLose := map[uint64]bool{}
				for _, k := range at {
					mayLose[k] = true
				}
				var lost []uint64
				for k := range live {
					if !got[k] && !mayLose[k] {
						lost = append(lost, k)
					}
				}
				if len(lost) > 0 {
					t.Errorf("lost %d records outside the damage, e.g. %v", len(lost), lost[:min(5, len(lost))])
				}
			}
			if len(got) < len(live) && rep.Buckets[0].Lost+rep.Buckets[0].LostPages == 0 && rep.Buckets[0].Found {
				t.Errorf("%d records lost but the report counts no loss: %+v", len(live)-len(got), rep.Buckets[0])
			}
			// New records after a salvage never reuse a key.
			db, err = Open(dir, testSpec, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_ = db.Update(func(tx *bolt.Tx) error {
				seq, _ := tx.Bucket([]byte("rec")).NextSequence()
				for k := range got {
					if seq <= k {
						t.Errorf("next sequence %d reuses the salvaged key %d", seq, k)
						break
					}
				}
				return nil
			})
		})
	}
}

// TestLocked: while one process holds the file, Open, Check and Salvage
// fail with ErrLocked and change nothing.
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	buildTestFile(t, dir, 10)
	db, err := Open(dir, testSpec, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	short := testOptions
	short.Timeout = 100 * time.Millisecond
	if _, err := Open(dir, testSpec, short); !errors.Is(err, ErrLocked) {
		t.Errorf("Open: %v, want ErrLocked", err)
	}
	if _, err := Check(dir, testSpec, 100*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Errorf("Check: %v, want ErrLocked", err)
	}
	if _, err := Salvage(dir, testSpec, 100*time.Millisecond, time.Now()); !errors.Is(err, ErrLocked) {
		t.Errorf("Salvage: %v, want ErrLocked", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.damaged-*")); len(m) > 0 {
		t.Errorf("salvage moved the file aside while it was locked: %v", m)
	}
}
