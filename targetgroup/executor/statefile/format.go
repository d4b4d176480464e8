package statefile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// The bbolt file format (version 2), as go.etcd.io/bbolt/internal/common
// defines it. bbolt reads it through unsafe pointers into a memory map,
// trusting every page id, count and offset; this reader reads the same
// structures with ReadAt and checks each of them first, so damage can only
// give errors. bbolt writes integers in the machine's byte order.
const (
	pageHeaderSize   = 16 // id u64, flags u16, count u16, overflow u32
	elementSize      = 16 // leaf: flags u32, pos u32, ksize u32, vsize u32; branch: pos u32, ksize u32, pgid u64
	bucketHeaderSize = 16 // root pgid u64, sequence u64
	metaSize         = 64 // magic, version, pageSize, flags (u32); root, rootSeq, freelist, pgid, txid, checksum (u64)

	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	metaPageFlag     = 0x04
	freelistPageFlag = 0x10
	bucketLeafFlag   = 0x01

	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	noFreelist     = ^uint64(0)
	minPageSize    = 512
	maxPageSize    = 1 << 24 // bbolt looks for the second meta page up to 16 MB
	maxDepth       = 64      // B+tree levels and bucket nesting together
	freelistCountX = 0xFFFF  // page count marking a count stored in the first element
)

var ne = binary.NativeEndian

// meta is one of the two meta pages.
type meta struct {
	pageSize uint32
	root     uint64 // root bucket's root page
	freelist uint64 // noFreelist when the freelist is not stored (NoFreelistSync)
	pgid     uint64 // high-water mark: pages [0, pgid) are in use or free
	txid     uint64
}

// parseMeta validates b (a meta page from its header on) as bbolt does:
// magic, version and FNV-64a checksum.
func parseMeta(b []byte) (meta, error) {
	if len(b) < pageHeaderSize+metaSize {
		return meta{}, errors.New("too short")
	}
	m := b[pageHeaderSize : pageHeaderSize+metaSize]
	if ne.Uint32(m[0:]) != boltMagic {
		return meta{}, errors.New("not a bbolt meta page")
	}
	if v := ne.Uint32(m[4:]); v != boltVersion {
		return meta{}, fmt.Errorf("format version %d", v)
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != ne.Uint64(m[56:]) {
		return meta{}, errors.New("checksum mismatch")
	}
	return meta{
		pageSize: ne.Uint32(m[8:]),
		root:     ne.Uint64(m[16:]),
		freelist: ne.Uint64(m[32:]),
		pgid:     ne.Uint64(m[40:]),
		txid:     ne.Uint64(m[48:]),
	}, nil
}

// reader reads the pages of one bbolt file.
type reader struct {
	r    io.ReaderAt
	size int64
	ps   uint64 // page size
	m    meta   // the meta in use
}

// newReader reads the meta pages and returns readers for the valid ones,
// the one bbolt would use first (the higher transaction id). It fails
// when neither is valid.
func newReader(r io.ReaderAt, size int64) ([]*reader, error) {
	if size < 2*minPageSize {
		return nil, fmt.Errorf("file is %d bytes, too short for the two meta pages (truncated?)", size)
	}
	// Meta 0 is at offset 0; its page size places meta 1. When meta 0 is
	// damaged, look for meta 1 at every page size bbolt could have used.
	var metas []meta
	var errs []error
	head := make([]byte, pageHeaderSize+metaSize)
	m0, err := readMeta(r, 0, head)
	if err == nil && validPageSize(m0.pageSize) {
		metas = append(metas, m0)
		if m1, err := readMeta(r, int64(m0.pageSize), head); err == nil && m1.pageSize == m0.pageSize {
			metas = append(metas, m1)
		} else {
			errs = append(errs, fmt.Errorf("meta page 1: %v", orMismatch(err)))
		}
	} else {
		errs = append(errs, fmt.Errorf("meta page 0: %v", orBadSize(err, m0.pageSize)))
		for ps := int64(minPageSize); ps <= maxPageSize && ps+pageHeaderSize+metaSize <= size; ps *= 2 {
			if m1, err := readMeta(r, ps, head); err == nil && int64(m1.pageSize) == ps {
				metas = append(metas, m1)
				break
			}
		}
		if len(metas) == 0 {
			errs = append(errs, errors.New("meta page 1: not found"))
		}
	}
	if len(metas) == 0 {
		return nil, errors.Join(errs...)
	}
	if len(metas) == 2 && metas[1].txid > metas[0].txid {
		metas[0], metas[1] = metas[1], metas[0]
	}
	out := make([]*reader, len(metas))
	for i, m := range metas {
		out[i] = &reader{r: r, size: size, ps: uint64(m.pageSize), m: m}
	}
	if len(errs) > 0 {
		return out, errors.Join(errs...)
	}
	return out, nil
}

func readMeta(r io.ReaderAt, off int64, buf []byte) (meta, error) {
	if _, err := r.ReadAt(buf, off); err != nil {
		return meta{}, err
	}
	return parseMeta(buf)
}

func validPageSize(ps uint32) bool {
	return ps >= minPageSize && ps <= maxPageSize && ps&(ps-1) == 0
}

func orMismatch(err error) error {
	if err == nil {
		return errors.New("page size differs from meta page 0")
	}
	return err
}

func orBadSize(err error, ps uint32) error {
	if err == nil {
		return fmt.Errorf("impossible page size %d", ps)
	}
	return err
}

// page is one page (with its overflow pages) read into memory.
type page struct {
	id    uint64
	flags uint16
	count int
	buf   []byte // the whole page, header included
}

// pageError is a page that cannot be read as what it should be.
type pageError struct {
	id  uint64
	msg string
}

func (e *pageError) Error() string { return fmt.Sprintf("page %d: %s", e.id, e.msg) }

func pageErr(id uint64, format string, args ...any) error {
	return &pageError{id: id, msg: fmt.Sprintf(format, args...)}
}

// page reads page id and its overflow pages into buf (grown as needed) and
// checks its header: in the file, below the high-water mark, identifying
// itself as id.
func (r *reader) page(id uint64, buf []byte) (page, error) {
	if id < 2 {
		return page{}, pageErr(id, "a meta page where a data page belongs")
	}
	if id >= r.m.pgid {
		return page{}, pageErr(id, "beyond the file's last page %d", r.m.pgid-1)
	}
	if id >= uint64(r.size)/r.ps {
		return page{}, pageErr(id, "beyond the end of the file (%d bytes): truncated", r.size)
	}
	off := id * r.ps
	var head [pageHeaderSize]byte
	if _, err := r.r.ReadAt(head[:], int64(off)); err != nil {
		return page{}, pageErr(id, "read: %v", err)
	}
	if got := ne.Uint64(head[0:]); got != id {
		return page{}, pageErr(id, "identifies itself as page %d", got)
	}
	overflow := uint64(ne.Uint32(head[12:]))
	if overflow >= r.m.pgid-id {
		return page{}, pageErr(id, "%d overflow pages run past the file's last page %d", overflow, r.m.pgid-1)
	}
	n := (overflow + 1) * r.ps
	if off+n > uint64(r.size) {
		return page{}, pageErr(id, "%d overflow pages run past the end of the file (%d bytes): truncated", overflow, r.size)
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := r.r.ReadAt(buf, int64(off)); err != nil {
		return page{}, pageErr(id, "read: %v", err)
	}
	return page{id: id, flags: ne.Uint16(buf[8:]), count: int(ne.Uint16(buf[10:])), buf: buf}, nil
}

// overflow is the number of extra pages p spans.
func (p *page) overflow(ps uint64) uint64 { return uint64(len(p.buf))/ps - 1 }

// fits is how many of p's count elements fit in the page.
func (p *page) fits() int {
	return min(p.count, (len(p.buf)-pageHeaderSize)/elementSize)
}

// leaf returns leaf element i: its flags, key and value, which alias p.
func (p *page) leaf(i int) (flags uint32, key, value []byte, err error) {
	e := pageHeaderSize + i*elementSize
	flags = ne.Uint32(p.buf[e:])
	pos, ksize, vsize := uint64(ne.Uint32(p.buf[e+4:])), uint64(ne.Uint32(p.buf[e+8:])), uint64(ne.Uint32(p.buf[e+12:]))
	start := uint64(e) + pos
	if start+ksize+vsize > uint64(len(p.buf)) {
		return 0, nil, nil, fmt.Errorf("element %d points outside the page", i)
	}
	return flags, p.buf[start : start+ksize], p.buf[start+ksize : start+ksize+vsize], nil
}

// branch returns branch element i: its key (aliasing p) and child page.
func (p *page) branch(i int) (key []byte, child uint64, err error) {
	e := pageHeaderSize + i*elementSize
	pos, ksize := uint64(ne.Uint32(p.buf[e:])), uint64(ne.Uint32(p.buf[e+4:]))
	child = ne.Uint64(p.buf[e+8:])
	start := uint64(e) + pos
	if start+ksize > uint64(len(p.buf)) {
		return nil, 0, fmt.Errorf("element %d points outside the page", i)
	}
	return p.buf[start : start+ksize], child, nil
}

// freelistIDs checks the freelist page p and returns the page ids it
// lists.
func (r *reader) freelistIDs(p page) ([]uint64, error) {
	if p.flags != freelistPageFlag {
		return nil, pageErr(p.id, "the freelist page has type %#x", p.flags)
	}
	first, n := pageHeaderSize, uint64(p.count)
	if p.count == freelistCountX {
		if len(p.buf) < pageHeaderSize+8 {
			return nil, pageErr(p.id, "freelist count missing")
		}
		n = ne.Uint64(p.buf[pageHeaderSize:])
		first += 8
	}
	if n > uint64(len(p.buf)-first)/8 {
		return nil, pageErr(p.id, "freelist of %d pages does not fit its page", n)
	}
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = ne.Uint64(p.buf[first+8*i:])
		if ids[i] < 2 || ids[i] >= r.m.pgid {
			return nil, pageErr(p.id, "freelist names page %d, outside 2..%d", ids[i], r.m.pgid-1)
		}
	}
	return ids, nil
}
