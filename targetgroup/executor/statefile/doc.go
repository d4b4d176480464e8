// Package statefile opens, checks and salvages albedo's bbolt state files
// (the async queue's queue.db, the policy store's policy.db) so that a
// damaged file gives an error naming it, never a Go panic or a crash.
//
// Each file is described by a Spec, declared by the package that owns it:
// its name, what it holds (for the messages users read) and its top-level
// buckets with a check of their records. The owners call Open instead of
// bolt.Open; `albedo state check` and `albedo state salvage` call Check and
// Salvage with the same Specs.
//
// # Why a reader of its own
//
// bbolt trusts its file. It reads pages through a memory map at the
// offsets the file names, and asserts with panics. A truncated file makes
// it read past the end of the mapped file: SIGBUS, which Go turns into a
// fatal "unexpected fault address", not a panic, so nothing can recover
// it. A damaged page header makes it panic inside a goroutine it starts
// itself (the free-page scan NoFreelistSync needs at open, and tx.Check's
// walk), which no caller can recover either. So before bbolt sees a file,
// this package walks all of it with ReadAt, checking every page id, type,
// overflow, element offset, key order and record that bbolt would trust
// (format.go mirrors go.etcd.io/bbolt/internal/common, version 2). Only a
// file that passes is given to bbolt, whose own panics are then recovered
// too, and whose consistency check (tx.Check: freelist, reachability) runs
// last.
//
// # Locking
//
// Every operation first takes the flock bbolt takes (exclusive to open or
// salvage, shared to check), on the same descriptor bbolt then uses, so
// the walk and bbolt see the same bytes and no other albedo can write in
// between. A lock held elsewhere past the timeout is ErrLocked.
//
// # Salvage
//
// Salvage walks the damaged file the same way but never stops: an
// unreadable page, element or record is counted and skipped, and the walk
// goes on with the next one, so a bad leaf page loses only the records on
// it; a bad branch page also loses the pages below it, which the walk can
// no longer reach (it follows the tree from the meta page: it never scans
// the file for pages, which would bring freed ones, deleted records, back).
// Every record that reads and passes its Bucket.Check is copied into a
// fresh file, which replaces the damaged one; the damaged one is kept
// beside it as <name>.damaged-<UTC time>. Records whose page cannot be read
// at all cannot be counted; the report gives the number of such pages.
// Pages the newest meta page no longer reaches (freed by later
// transactions) are never read, so a salvage does not bring back deleted
// records.
package statefile
