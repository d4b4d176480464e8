package policy

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/statefile"
)

// File is the bbolt database a Store keeps in its directory.
const File = "policy.db"

// policyBucket holds one record per function changed through the API.
var policyBucket = []byte("policies")

// Store holds every function's resource-based policy: the config file's
// statements, overlaid with changes made through the policy API and
// persisted in dir/policy.db. Statements is lock-free; changes are
// serialised, written and synced before they become visible.
type Store struct {
	db      *bolt.DB
	region  string
	account string

	mu   sync.Mutex // serialises writers; guards rev and closed
	rev  uint64
	snap atomic.Pointer[policySnapshot]
}

// policySnapshot is an immutable view; writers replace it whole.
type policySnapshot struct {
	fns map[string]*functionPolicy
}

// functionPolicy is one function's current policy. Never modified once
// published.
type functionPolicy struct {
	statements []config.Statement
	revision   uint64 // process-local, changes on every change
	revisionID string // Lambda's RevisionId, persisted
	arn        string // the function's ARN, in documents
	configHash string // hash of the config file's statements (statementsHash)
}

// Open opens (creating dir and the database if missing) the policy store
// for fns. For each function, persisted API changes are kept
// only while the config file's statements for it are unchanged since they
// were persisted; otherwise the config wins and the record is deleted, as
// are records of functions no longer configured. The file is checked first
// (statefile.Open): a damaged one is a *statefile.DamagedError, one held by
// another process ErrLocked, both wrapped.
func Open(dir string, region, account string, fns []config.Function) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("policy: state dir: %w", err)
	}
	path := filepath.Join(dir, File)
	db, err := statefile.Open(dir, StateFile, bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("policy: open store: %w", err)
	}
	s := &Store{db: db, region: region, account: account}
	var snap *policySnapshot
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(policyBucket)
		if err != nil {
			return err
		}
		snap, err = s.load(b, nil, fns)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("policy: load %s: %w", path, err)
	}
	s.snap.Store(snap)
	return s, nil
}

// statementsHash identifies the config file's statements of a function.
func statementsHash(stmts []config.Statement) string {
	if stmts == nil {
		stmts = []config.Statement{}
	}
	b, _ := json.Marshal(stmts) // plain strings: cannot fail
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%x", sum)
}

// configRevisionID derives a stable RevisionId for a policy that only
// holds the config file's statements, so it survives restarts unchanged.
func configRevisionID(name, hash string) string {
	sum := sha256.Sum256([]byte("albedo-policy\x00" + name + "\x00" + hash))
	return executor.FormatUUID([16]byte(sum[:16]))
}

// Statements returns the function's current statements and a revision
// that changes on every change (0 for an unknown function). The slice must
// not be modified. Lock-free.
func (s *Store) Statements(function string) ([]config.Statement, uint64) {
	p := s.snap.Load().fns[function]
	if p == nil {
		return nil, 0
	}
	return p.statements, p.revision
}

// Get returns the function's statements and RevisionId. The slice must not
// be modified.
func (s *Store) Get(function string) ([]config.Statement, string, error) {
	p := s.snap.Load().fns[function]
	if p == nil {
		return nil, "", fmt.Errorf("get policy of %s: %w", function, ErrUnknownFunction)
	}
	return p.statements, p.revisionID, nil
}

// ARN returns the function ARN the store uses in documents ("" when
// unknown).
func (s *Store) ARN(function string) string {
	if p := s.snap.Load().fns[function]; p != nil {
		return p.arn
	}
	return ""
}

// Add appends st to the function's policy. revisionID, when not empty,
// must be the current RevisionId. It returns the new RevisionId.
func (s *Store) Add(function string, st config.Statement, revisionID string) (string, error) {
	return s.change(function, revisionID, func(stmts []config.Statement) ([]config.Statement, error) {
		for _, x := range stmts {
			if x.Sid == st.Sid {
				return nil, fmt.Errorf("add %s to %s: %w", st.Sid, function, ErrDuplicateStatement)
			}
		}
		next := append(slices.Clip(stmts), st)
		if n := len(Document(s.ARN(function), next)); n > MaxDocumentSize {
			return nil, &TooLargeError{Size: n, Limit: MaxDocumentSize}
		}
		return next, nil
	})
}

// Remove deletes the statement with sid. revisionID, when not empty, must
// be the current RevisionId.
func (s *Store) Remove(function, sid, revisionID string) (string, error) {
	return s.change(function, revisionID, func(stmts []config.Statement) ([]config.Statement, error) {
		i := slices.IndexFunc(stmts, func(x config.Statement) bool { return x.Sid == sid })
		if i < 0 {
			return nil, fmt.Errorf("remove %s from %s: %w", sid, function, ErrStatementNotFound)
		}
		return slices.Delete(slices.Clone(stmts), i, i+1), nil
	})
}

// change applies edit under the writer lock, persists the result with a
// new RevisionId (synced), then publishes a new snapshot.
func (s *Store) change(function, revisionID string, edit func([]config.Statement) ([]config.Statement, error)) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return "", ErrClosed
	}
	old := s.snap.Load()
	cur := old.fns[function]
	if cur == nil {
		return "", fmt.Errorf("change policy of %s: %w", function, ErrUnknownFunction)
	}
	if revisionID != "" && revisionID != cur.revisionID {
		return "", fmt.Errorf("change policy of %s: %w", function, ErrRevisionMismatch)
	}
	next, err := edit(cur.statements)
	if err != nil {
		return "", err
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	p := &functionPolicy{statements: next, revision: s.rev + 1, revisionID: executor.FormatUUID(b), arn: cur.arn, configHash: cur.configHash}
	raw, err := appendRecord(nil, &policyRecord{ConfigHash: cur.configHash, RevisionID: p.revisionID, Statements: next})
	if err != nil {
		return "", fmt.Errorf("change policy of %s: %w", function, err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(policyBucket).Put([]byte(function), raw)
	}); err != nil {
		return "", fmt.Errorf("persist policy of %s: %w", function, err)
	}
	s.rev++
	fns := make(map[string]*functionPolicy, len(old.fns))
	for k, v := range old.fns {
		fns[k] = v
	}
	fns[function] = p
	s.snap.Store(&policySnapshot{fns: fns})
	return p.revisionID, nil
}

// Close closes the database. Statements and Get keep answering from the
// last snapshot; changes fail with ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	if err != nil {
		return fmt.Errorf("policy: close store: %w", err)
	}
	return nil
}
