// Package async is Lambda's asynchronous invocation (InvocationType Event)
// for local functions: a durable queue that accepts events, delivers them
// at least once, retries them, and reports their outcome to destinations.
//
// # Flow
//
//	Enqueue ──fsync──► queue.db ──► scheduler ──► worker ──► Invoker.Invoke
//	                      ▲                                    │
//	                      └── retry / backoff (state stored) ◄─┤
//	                                                           ▼
//	                    delete event (+ record for a function, same tx)
//	                    after a file:// record is appended and synced
//
// # Durability
//
// Events live in a bbolt database, Options.Dir/queue.db. Enqueue returns
// (and the Invoke API answers 202) only after the event is committed and
// fsynced. Concurrent Enqueue calls share one transaction and one fsync:
// a committer goroutine takes the first waiting write, folds in every write
// that arrived meanwhile, and commits them together (group commit without
// bbolt Batch's fixed 10 ms delay). Retry state (attempts, throttles, next
// attempt time) is stored before the next attempt is scheduled, so a
// restart neither forgets nor repeats attempts. An event is deleted only
// when its outcome is recorded. After a crash every stored event is
// delivered again: at-least-once, like Lambda. Duplicates occur for
// deliveries that ran but whose completion had not been committed.
// Keys are bucket sequence numbers, so inserts append to the B+tree.
//
// # Damage
//
// Open hands queue.db to statefile.Open (StateFile describes it), which
// checks the whole file before bbolt reads it and runs bbolt's own check
// after: a damaged file is a *statefile.DamagedError, never a panic, and
// the queue does not start; `albedo state salvage` keeps every readable
// event. Each stored event carries a CRC-32C of its encoding, so damage
// inside a value (which the page structure cannot show) is found too. One
// process at a time holds the file: Open waits 5 s, then ErrLocked.
//
// # Semantics
//
// Lambda's asynchronous invocation ("How Lambda handles asynchronous
// invocations", https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html#async-overview,
// and the error handling and destination sections of the same page):
//
//   - A function error (Response.FunctionError, including timeouts and
//     crashes) is retried after RetryDelays[0] then RetryDelays[1] (1 and 2
//     minutes), up to MaximumRetryAttempts; then the event goes to
//     on_failure with condition RetriesExhausted.
//   - A throttle (errors.Is executor.ErrThrottled) or any other Go error
//     from Invoke (a system error) returns the event to the queue after an
//     exponential backoff BackoffMin·2^(n-1) capped at BackoffMax (1 s → 5
//     min), without counting an attempt. There is no jitter.
//   - An event older than MaximumEventAge goes to on_failure with
//     EventAgeExceeded. A retry or backoff that would end after that age is
//     cut short to it, so expiry happens on time.
//   - Success goes to on_success with condition Success.
//   - A function with reserved concurrency 0 sends its events straight to
//     on_failure without invoking it. UNCONFIRMED which condition Lambda
//     reports; we use RetriesExhausted with approximateInvokeCount 0 and
//     statusCode 429.
//   - The config in force at each attempt applies (PutConfig affects queued
//     events). An unknown function at delivery time (removed from the config
//     file) is a system error: the event backs off until it expires or the
//     function returns.
//   - The dispatcher keeps at most Function.Reserved deliveries of a
//     function in flight (more would only be throttled); the account-wide
//     limit is the pool's, and its throttles mean backoff.
//
// # Destination records
//
// Record has AWS's shape. functionArn carries the :$LATEST qualifier, as
// Lambda reports unqualified invocations. requestPayload and
// responsePayload embed the payloads as JSON (a non-JSON payload becomes a
// JSON string; an empty request payload is {}, Lambda's substitute).
// UNCONFIRMED for attempts that never reached the function: responseContext
// then carries the last attempt's status (429 throttled, 500 system error)
// and responsePayload is absent.
//
//   - file://PATH: the record is appended as one JSON line (O_APPEND, then
//     fsync) before the event is deleted; a crash in between repeats it.
//     Through PutConfig (the API) PATH must be a .jsonl file inside Dir or
//     a file the config file names: an API client must not append to any
//     file albedo can write. Stored API changes that break this are
//     dropped on Open.
//   - a function name or ARN: the record becomes a new event of that
//     function, stored in the same transaction that deletes the finished
//     event, so exactly one of the two exists at any time.
//
// A record that cannot be written (missing directory, unknown destination
// function) is logged, counted in Stats.DestinationErrors and dropped, as
// Lambda drops records it cannot deliver; retrying would re-run the
// function forever. A function that is its own destination loops; Lambda's
// recursion detection is not emulated.
//
// # Request ids
//
// Each event gets a request id (UUID v4) at Enqueue; it is returned to the
// caller (x-amzn-RequestId of the 202) and stays the same across retries
// and in the destination record; it is passed as executor.Request.RequestID,
// so the function sees the same Lambda-Runtime-Aws-Request-Id on every
// attempt, as in Lambda.
//
// # Config storage
//
// Options.Configs holds the config file's settings. PutConfig and
// DeleteConfig persist API changes in the configs bucket together with the
// file's settings at that time; on Open a change is dropped when the file
// now says something else for that function ("the API wins until the config
// file changes that function"). DeleteConfig hides the file's settings too.
// SetConfigs (a reload of the config file while serving) applies the same
// rule without a restart.
//
// # Metrics
//
// Options.Metrics (one *Metrics per process, given to every Open) exposes
// Stats to Prometheus at scrape time, as albedo_async_*: events received,
// attempts, successes, retries, requeues, events dropped by reason,
// destination records by destination and their errors (counters kept
// across a Close and the next Open on the same Metrics), and the queue
// depth, deliveries in flight and the age of the oldest stored event (the
// first key's: keys follow commit order), read in one bbolt read
// transaction per scrape. Nothing is added to the delivery path but two
// atomic counters for destination records.
//
// # Concurrency
//
// All methods are safe for concurrent use. Enqueue may be called before
// Start; events wait. One scheduler goroutine owns the schedule; Workers
// goroutines deliver. Close stops dispatching, waits for in-flight
// deliveries until its context ends, then cancels them (their events stay
// stored) and closes the database. Enqueue copies nothing it does not own
// past its return: the payload is encoded into the stored value.
//
// # Performance
//
// Enqueue's cost is its fsync: one caller waits for one commit per event,
// while many callers share commits (group commit, above), so throughput
// grows with the callers until the disk's sync rate no longer bounds it.
// Delivery is bounded by the function's round trip, not by the queue. The
// benchmarks are in *_timing_test.go (go test -run '^$' -bench .
// ./targetgroup/executor/async); measured figures, with their command and
// machine, are in the README's Performance section. Sequence-number keys
// make every insert an append instead of a random B+tree insert, which
// together with NoFreelistSync (below) was measured to raise the
// group-commit figure severalfold.
//
// # NoFreelistSync
//
// queue.db is opened with bbolt's NoFreelistSync: the list of free pages
// is not written with every commit but rebuilt at Open by scanning every
// page reachable from the root. The trade-off, measured by
// BenchmarkEnqueueFreelist (figures and command in the README):
//
//   - Bytes bbolt writes per accepted event (wchar, deterministic): fresh
//     queue 18,160 instead of 22,256 with 1 caller (-18%), ~1,070 instead
//     of ~1,160 with 64 (-8%); aged queue (30,000 events written, a third
//     deleted again, 46 MB file, so its freelist spans pages) 20,998
//     instead of 53,271 with 1 caller (-61%), ~1,170 instead of ~2,230 with
//     64 (-48%). A synced freelist is rewritten whole on every commit, so
//     the cost grows with the free pages a long-lived queue accumulates.
//   - Throughput: no difference a shared development machine can show,
//     where fsync costs little next to the other engineers' load. On a
//     disk where fsync time follows the bytes written, the saving above is
//     the gain.
//   - Open: the free-page scan adds time that grows with the file, on top
//     of the checked Open's own walk of it (figures in the README).
//   - Risk: bbolt runs that scan in a goroutine of its own that recovers
//     nothing, so before statefile a damaged page header killed albedo with
//     a panic no caller could catch ("freepages: failed to get all
//     reachable pages", "Page expected to be …"). statefile.Open now walks
//     the whole file before bbolt reads it, and FuzzDamagedQueue damages
//     queue.db at random to hold that line.
//
// Kept: the write volume on an aged queue is more than halved, and the
// risk that made it dangerous is closed by the check that every open runs
// anyway. Turning it off needs no migration: bbolt writes the freelist on
// the first open without it.
package async
