// Package policy keeps every local function's resource-based policy: the
// statements of the config file, overlaid with the changes made through
// the policy API (AddPermission, RemovePermission), persisted in the state
// directory's policy.db. It also renders a policy as the JSON document
// Lambda returns (Document, StatementJSON), because Lambda's 20 KB limit
// applies to that document.
//
// It is part of the local Lambda service's state, beside the async queue,
// and imports only config and executor: the target groups (which check the
// ALB's permission on every request through their Policies interface) and
// the Invoke API (which serves the policy operations) consume a *Store;
// neither is known here.
//
// # Concurrency
//
// A Store is safe for concurrent use. Statements reads an immutable
// snapshot through an atomic pointer (no locks, no allocation); changes are
// serialised, written to bbolt and synced before the new snapshot is
// published, so a change is visible to the balancer's next request and
// survives a crash once the API has answered. The returned statement
// slices must not be modified.
//
// # Persistence
//
// API changes live in dir/policy.db, one record per changed function, each
// with a hash of the config file's statements for the function. On Open a
// record is kept only while that hash still matches; otherwise the config
// file wins and the record is deleted, as are records of functions no
// longer configured. A config-only policy has a RevisionId derived from
// that hash, so it is stable across restarts. The revision number returned
// by Statements is process-local and changes on every change; permission
// caches key on it.
//
// A reload of the config file (Update) applies the same rule while
// serving: a function whose config statements are unchanged keeps its
// policy, API changes and revision included; one whose statements changed
// gets the file's (its API changes go); added functions start from the
// file, removed ones' records are deleted. A reload and a restart thus
// leave the same policies.
//
// # Records
//
// A record is the function name as key and, as value, a version byte (1),
// the CRC-32C (Castagnoli, 4 bytes, big endian) of the rest, then the
// JSON of the record (config hash, RevisionId, statements). bbolt's page
// structure cannot reveal damage inside a value, and a changed config
// hash would make Open drop the record and fall back to the config's
// statements, bringing back a permission RemovePermission took away; so
// the statefile check (at Open, `albedo state check`, `salvage`) rejects
// a record whose checksum does not match, and Open then fails with a
// *statefile.DamagedError instead of using or dropping it.
//
// Records written by earlier versions are plain JSON (their first byte is
// '{', never a version byte). They are accepted as legacy: only their
// shape can be checked, not their content. Open rewrites a legacy record
// it keeps in the checksummed form, so a state_dir is checked fully from
// its first start with this version on. The rewrite is one way: an older
// albedo reads checksummed records as damaged and refuses the file (its
// salvage would drop them, and with them the API's policy changes), so a
// state_dir is not taken back to an older albedo.
//
// One process at a time holds policy.db: Open waits 2 s for the lock, then
// fails with ErrLocked (another albedo serving the same state_dir). Open
// hands the file to statefile.Open (StateFile describes it), so a damaged
// policy.db is a *statefile.DamagedError, never a panic, and `albedo state
// salvage` keeps every readable record.
package policy
