package statefile

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// BucketReport is what a walk found in one bucket of a Spec.
type BucketReport struct {
	Name            string
	Record, Records string // Bucket.Record, Bucket.Records
	// Kept counts the records that read and pass Bucket.Check (Check) or
	// that were copied (Salvage).
	Kept int
	// Lost counts records found damaged: an element pointing outside its
	// page, or a record failing Bucket.Check.
	Lost int
	// LostPages counts pages of the bucket that could not be read at all;
	// the records on them are lost and cannot be counted.
	LostPages int
	// Found is false when the walk never reached the bucket (a new file,
	// or the root bucket's page is unreadable).
	Found bool

	sequence uint64 // the bucket's NextSequence state, when Found
	maxKey   uint64 // largest 8-byte key kept (Bucket.SequenceKeys)
}

// maxProblems bounds the problems a walk keeps (it counts them all).
const maxProblems = 10

// walker reads every page reachable from the reader's meta page: the
// freelist, the root bucket and every bucket below it, checking what bbolt
// would trust (page ids, types, element bounds, key order) and each record
// of the Spec's buckets. It never stops at a problem: it records it and
// goes on with the next element, page or bucket, so one bad page does not
// hide the rest of the file.
type walker struct {
	r        *reader
	spec     *Spec
	visit    func(b int, k, v []byte) // each record that passed Check; may be nil
	reached  map[uint64]bool
	problems []string
	total    int // problems found, kept or not
	buckets  []BucketReport
	bufs     [][]byte // one page buffer per tree depth
}

func newWalker(r *reader, spec *Spec, visit func(b int, k, v []byte)) *walker {
	w := &walker{r: r, spec: spec, visit: visit, reached: make(map[uint64]bool)}
	for _, b := range spec.Buckets {
		w.buckets = append(w.buckets, BucketReport{Name: b.Name, Record: b.Record, Records: b.Records})
	}
	return w
}

func (w *walker) problem(format string, args ...any) {
	w.total++
	if len(w.problems) < maxProblems {
		w.problems = append(w.problems, fmt.Sprintf(format, args...))
	}
}

// damaged is the walk's verdict as a *DamagedError, nil when it found
// nothing wrong.
func (w *walker) damaged(path, holds string) *DamagedError {
	if w.total == 0 {
		return nil
	}
	return &DamagedError{Path: path, Holds: holds, Problems: w.problems, Total: w.total}
}

// walk checks the file from the reader's meta page.
func (w *walker) walk() {
	m := w.r.m
	if need := m.pgid * w.r.ps; m.pgid > uint64(w.r.size)/w.r.ps {
		w.problem("the file is %d bytes but its pages reach byte %d: truncated", w.r.size, need)
	}
	if m.freelist != noFreelist {
		w.freelist(m.freelist)
	}
	w.tree(m.root, -1, 0, nil, nil, true)
}

func (w *walker) freelist(id uint64) {
	p, err := w.r.page(id, nil)
	if err == nil {
		_, err = w.r.freelistIDs(p)
	}
	if err != nil {
		w.problem("freelist: %v", err)
		return
	}
	w.reach(p)
}

// where names bucket b in messages.
func (w *walker) where(b int, root bool) string {
	switch {
	case root:
		return "root bucket"
	case b < 0:
		return "nested bucket"
	}
	return "bucket " + w.spec.Buckets[b].Name
}

func (w *walker) lostPage(b int) {
	if b >= 0 {
		w.buckets[b].LostPages++
	}
}

func (w *walker) buf(depth int) []byte {
	for len(w.bufs) <= depth {
		w.bufs = append(w.bufs, nil)
	}
	return w.bufs[depth]
}

// reach marks p's pages as reached; a page reached twice is a problem.
func (w *walker) reach(p page) bool {
	ok := true
	for i := uint64(0); i <= p.overflow(w.r.ps); i++ {
		if w.reached[p.id+i] {
			ok = false
		}
		w.reached[p.id+i] = true
	}
	return ok
}

// tree walks the B+tree page id of bucket b (-1: not a Spec bucket; root:
// the root bucket, whose records are buckets). Keys must lie in [lo, hi).
func (w *walker) tree(id uint64, b, depth int, lo, hi []byte, root bool) {
	where := w.where(b, root)
	defer func() {
		// The reads are bounds-checked; this is the last line of defence
		// against a mistake in them, so one page cannot end the walk.
		if r := recover(); r != nil {
			w.problem("%s: page %d: unreadable (%v)", where, id, r)
			w.lostPage(b)
		}
	}()
	if depth > maxDepth {
		w.problem("%s: page %d is nested more than %d levels deep", where, id, maxDepth)
		w.lostPage(b)
		return
	}
	if w.reached[id] {
		w.problem("%s: page %d is referenced twice", where, id)
		return
	}
	p, err := w.r.page(id, w.buf(depth))
	if err != nil {
		w.problem("%s: %v", where, err)
		w.lostPage(b)
		return
	}
	w.bufs[depth] = p.buf[:0]
	if !w.reach(p) {
		w.problem("%s: page %d overlaps another page", where, id)
		w.lostPage(b)
		return
	}
	switch p.flags {
	case branchPageFlag:
		w.branch(p, b, depth, lo, hi, root)
	case leafPageFlag:
		w.leaf(p, b, depth, lo, hi, root)
	default:
		w.problem("%s: page %d has type %#x where a branch or leaf page belongs", where, id, p.flags)
		w.lostPage(b)
	}
}

func (w *walker) branch(p page, b, depth int, lo, hi []byte, root bool) {
	where := w.where(b, root)
	n := p.fits()
	if n < p.count || n == 0 {
		w.problem("%s: branch page %d: %d elements do not fit", where, p.id, p.count)
	}
	type child struct {
		key []byte
		id  uint64
	}
	kids := make([]child, 0, n)
	var prev []byte
	for i := range n {
		k, id, err := p.branch(i)
		if err != nil {
			w.problem("%s: branch page %d: %v", where, p.id, err)
			w.lostPage(b) // the child's subtree cannot be found
			continue
		}
		w.order(where, p.id, i, k, lo, hi, prev)
		prev = k
		kids = append(kids, child{k, id})
	}
	for i, c := range kids {
		next := hi
		if i+1 < len(kids) {
			next = kids[i+1].key
		}
		w.tree(c.id, b, depth+1, c.key, next, root)
	}
}

// order records a key outside its page's range or not above its
// predecessor. The records stay readable; only bbolt's lookups would miss
// them.
func (w *walker) order(where string, id uint64, i int, k, lo, hi, prev []byte) {
	switch {
	case prev != nil && bytes.Compare(prev, k) >= 0:
		w.problem("%s: page %d: key %d (%x) is not above the one before it", where, id, i, k)
	case lo != nil && bytes.Compare(k, lo) < 0, hi != nil && bytes.Compare(k, hi) >= 0:
		w.problem("%s: page %d: key %d (%x) is outside the range its parent page gives", where, id, i, k)
	}
}

func (w *walker) leaf(p page, b, depth int, lo, hi []byte, root bool) {
	where := w.where(b, root)
	n := p.fits()
	if n < p.count {
		w.problem("%s: leaf page %d: %d elements do not fit", where, p.id, p.count)
	}
	var prev []byte
	for i := range n {
		flags, k, v, err := p.leaf(i)
		if err != nil {
			w.problem("%s: leaf page %d: %v", where, p.id, err)
			if b >= 0 {
				w.buckets[b].Lost++
			}
			continue
		}
		w.order(where, p.id, i, k, lo, hi, prev)
		prev = k
		switch {
		case flags&bucketLeafFlag != 0:
			w.bucket(k, v, b, depth, root)
		case root:
			w.problem("root bucket: page %d holds a record (%x) where only buckets belong", p.id, k)
		default:
			w.record(b, k, v)
		}
	}
}

// bucket walks the bucket named name, whose header (and inline page) is v,
// found on a leaf page at depth of bucket parent.
func (w *walker) bucket(name, v []byte, parent, depth int, root bool) {
	b := -1
	if root {
		b = w.spec.bucket(name)
	}
	if b >= 0 && w.buckets[b].Found {
		w.problem("root bucket: bucket %s appears twice", name)
		return
	}
	where := fmt.Sprintf("bucket %q", name)
	if len(v) < bucketHeaderSize {
		w.problem("%s: header is %d bytes, want %d", where, len(v), bucketHeaderSize)
		w.lostPage(b)
		return
	}
	rootPage, seq := ne.Uint64(v), ne.Uint64(v[8:])
	if b >= 0 {
		w.buckets[b].Found, w.buckets[b].sequence = true, seq
	}
	if rootPage != 0 {
		w.tree(rootPage, b, depth+1, nil, nil, false)
		return
	}
	// An inline bucket: its only (leaf) page follows the header.
	in := v[bucketHeaderSize:]
	if len(in) < pageHeaderSize || ne.Uint16(in[8:]) != leafPageFlag {
		w.problem("%s: inline page is damaged", where)
		w.lostPage(b)
		return
	}
	w.leaf(page{id: 0, flags: leafPageFlag, count: int(ne.Uint16(in[10:])), buf: in}, b, depth+1, nil, nil, false)
}

// record checks one record of bucket b and hands it to visit.
func (w *walker) record(b int, k, v []byte) {
	if b < 0 {
		return
	}
	spec, rep := &w.spec.Buckets[b], &w.buckets[b]
	if err := checkRecord(spec.Check, k, v); err != nil {
		w.problem("bucket %s: %s %x: %v", spec.Name, spec.Record, k, err)
		rep.Lost++
		return
	}
	rep.Kept++
	if spec.SequenceKeys && len(k) == 8 {
		rep.maxKey = max(rep.maxKey, binary.BigEndian.Uint64(k))
	}
	if w.visit != nil {
		w.visit(b, k, v)
	}
}

// checkRecord runs check, turning a panic into an error.
func checkRecord(check func(k, v []byte) error, k, v []byte) (err error) {
	if check == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unreadable (%v)", r)
		}
	}()
	return check(k, v)
}
