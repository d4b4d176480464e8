package statefile

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Report is what Check found in one state file.
type Report struct {
	Path string
	// Missing: there is no file (nothing was ever stored); Empty: a
	// zero-length file, which bbolt initialises as a new database.
	Missing, Empty bool
	Buckets        []BucketReport // in Spec order
}

// Open opens dir/spec.Name for reading and writing with bbolt, creating it
// when missing, and returns it only when it is sound:
//
//  1. the file is locked as bbolt locks it, waiting up to opts.Timeout,
//     else ErrLocked;
//  2. before bbolt reads anything, the whole file is walked with a
//     bounds-checked reader (pages, elements, keys, every record through
//     its Bucket.Check);
//  3. bbolt opens it, with any panic recovered;
//  4. bbolt's consistency check (tx.Check) runs, its panics recovered.
//
// Step 2 exists because bbolt trusts the file: a truncated file makes it
// read past the end of its memory map, a fault Go cannot recover (the
// process dies with "unexpected fault address"), and a damaged page header
// makes it panic in a goroutine of its own (NoFreelistSync's free-page
// scan), which no caller can recover either. Any failure is a
// *DamagedError naming the file and what it holds; the file is not
// changed. opts.OpenFile is replaced.
func Open(dir string, spec Spec, opts bolt.Options) (*bolt.DB, error) {
	path := filepath.Join(dir, spec.Name)
	var file *os.File
	opts.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		if err != nil {
			return nil, err
		}
		if err := lock(f, flag&(os.O_WRONLY|os.O_RDWR) != 0, opts.Timeout); err != nil {
			f.Close()
			return nil, err
		}
		if _, err := inspect(f, path, &spec); err != nil {
			f.Close()
			return nil, err
		}
		file = f
		return f, nil
	}
	db, err := openBolt(path, &spec, &opts, &file)
	if err != nil {
		return nil, err
	}
	if d := consistent(db, path, &spec); d != nil {
		_ = db.Close()
		return nil, d
	}
	return db, nil
}

// Check reads dir/spec.Name as Open does, read-only and under a shared
// lock (ErrLocked while an albedo serves it), and reports what it holds.
// A damaged file gives the report of what is readable and a
// *DamagedError.
func Check(dir string, spec Spec, timeout time.Duration) (Report, error) {
	path := filepath.Join(dir, spec.Name)
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return Report{Path: path, Missing: true}, nil
	}
	if err != nil {
		return Report{Path: path}, err
	}
	if err := lock(f, false, timeout); err != nil {
		f.Close()
		return Report{Path: path}, err
	}
	rep, err := inspect(f, path, &spec)
	if err != nil || rep.Empty {
		f.Close()
		return rep, err
	}
	opts := bolt.Options{ReadOnly: true, OpenFile: func(string, int, os.FileMode) (*os.File, error) { return f, nil }}
	file := f
	db, err := openBolt(path, &spec, &opts, &file)
	if err != nil {
		return rep, err
	}
	defer db.Close()
	if d := consistent(db, path, &spec); d != nil {
		return rep, d
	}
	return rep, nil
}

// inspect walks the locked file f with the bounds-checked reader.
func inspect(f *os.File, path string, spec *Spec) (Report, error) {
	rep := Report{Path: path}
	st, err := f.Stat()
	if err != nil {
		return rep, err
	}
	if st.Size() == 0 {
		rep.Empty = true
		return rep, nil
	}
	readers, err := newReader(f, st.Size())
	if len(readers) == 0 {
		return rep, &DamagedError{Path: path, Holds: spec.Holds, Problems: []string{err.Error()}, Total: 1}
	}
	// One bad meta page (err != nil) is not damage: a crash while bbolt
	// wrote it leaves it so, and bbolt carries on with the other one.
	w := newWalker(readers[0], spec, nil)
	w.walk()
	rep.Buckets = w.buckets
	if d := w.damaged(path, spec.Holds); d != nil {
		return rep, d
	}
	return rep, nil
}

// openBolt is bolt.Open with its panics recovered. *file is the file the
// OpenFile hook handed bbolt, closed (unlocking it) after a panic; bbolt's
// memory map of it, if any, is lost with the panic.
func openBolt(path string, spec *Spec, opts *bolt.Options, file **os.File) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			if *file != nil {
				(*file).Close()
			}
			db, err = nil, &DamagedError{Path: path, Holds: spec.Holds, Problems: []string{fmt.Sprintf("bbolt: %v", r)}, Total: 1}
		}
	}()
	db, err = bolt.Open(path, 0o600, opts)
	if err != nil {
		return nil, fmt.Errorf("statefile: open %s: %w", path, err)
	}
	return db, nil
}

// consistent runs bbolt's consistency check on db.
func consistent(db *bolt.DB, path string, spec *Spec) (d *DamagedError) {
	var problems []string
	total := 0
	add := func(s string) {
		total++
		if len(problems) < maxProblems {
			problems = append(problems, "bbolt: "+s)
		}
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				add(fmt.Sprint(r))
			}
		}()
		_ = db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() { // drained to the end: the checker goroutine must finish
				add(err.Error())
			}
			return nil
		})
	}()
	if total == 0 {
		return nil
	}
	return &DamagedError{Path: path, Holds: spec.Holds, Problems: problems, Total: total}
}
