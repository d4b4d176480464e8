package policy

import (
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/albedo-lb/albedo/config"
)

// Update applies the functions of a reloaded config file the way Open
// applies them at a restart, so a reload and a restart agree:
//
//   - a function whose config statements are unchanged keeps its current
//     policy, API changes included, with its revision (permission caches
//     stay valid);
//   - a function whose config statements changed gets them, and the API
//     changes made on top of the old ones are dropped (the config file
//     wins, as at Open);
//   - a new function starts from its config statements; the records of
//     removed functions are deleted.
//
// Changes made through the API while Update runs wait for it.
func (s *Store) Update(fns []config.Function) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	var snap *policySnapshot
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		snap, err = s.load(tx.Bucket(policyBucket), s.snap.Load(), fns)
		return err
	})
	if err != nil {
		return fmt.Errorf("policy: update: %w", err)
	}
	s.snap.Store(snap)
	return nil
}

// load builds the snapshot of fns: from cur where a function's config
// statements did not change since cur, else from its persisted API
// changes while they were made on the same config statements, else from
// the config; it deletes the records it does not use. cur is nil at Open.
// s.mu must be held (or s not yet shared).
func (s *Store) load(b *bolt.Bucket, cur *policySnapshot, fns []config.Function) (*policySnapshot, error) {
	snap := &policySnapshot{fns: make(map[string]*functionPolicy, len(fns))}
	for _, fn := range fns {
		arn := fn.ARN
		if arn == "" {
			arn = config.FunctionARN(s.region, s.account, fn.Name)
		}
		h := statementsHash(fn.Policy)
		if cur != nil {
			if old := cur.fns[fn.Name]; old != nil && old.configHash == h && old.arn == arn {
				snap.fns[fn.Name] = old
				continue
			}
		}
		s.rev++
		p := &functionPolicy{
			statements: slices.Clone(fn.Policy),
			revision:   s.rev,
			revisionID: configRevisionID(fn.Name, h),
			arn:        arn,
			configHash: h,
		}
		if raw := b.Get([]byte(fn.Name)); raw != nil {
			// A damaged record fails the load rather than being dropped:
			// dropping it would fall back to the config's statements and
			// could bring back a permission the API removed.
			rec, legacy, err := decodeRecord(raw)
			if err != nil {
				return nil, fmt.Errorf("record of %s: %w", fn.Name, err)
			}
			if rec.ConfigHash != h {
				err = b.Delete([]byte(fn.Name))
			} else {
				p.statements, p.revisionID = rec.Statements, rec.RevisionID
				if legacy {
					// Written before records carried a checksum: kept,
					// and rewritten checksummed so it is checked from now on.
					if raw, err = appendRecord(nil, &rec); err == nil {
						err = b.Put([]byte(fn.Name), raw)
					}
				}
			}
			if err != nil {
				return nil, err
			}
		}
		snap.fns[fn.Name] = p
	}
	var stale [][]byte
	if err := b.ForEach(func(k, _ []byte) error {
		if _, ok := snap.fns[string(k)]; !ok {
			stale = append(stale, slices.Clone(k))
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return nil, err
		}
	}
	return snap, nil
}
