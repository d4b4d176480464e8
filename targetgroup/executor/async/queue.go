package async

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/statefile"
)

// MaxPayloadSize is Lambda's asynchronous (Event) payload limit, 1 MB.
const MaxPayloadSize = 1 << 20

// Invoker runs one invocation and describes functions; *executor.Pool
// implements it.
type Invoker interface {
	Invoke(ctx context.Context, req executor.Request) (executor.Response, error)
	Function(name string) (executor.Function, bool)
}

// Options configures a Queue. Zero values take the documented defaults.
type Options struct {
	// Dir is the state directory; the queue is Dir/queue.db (bbolt). It is
	// created if missing.
	Dir string
	// Configs holds each function's settings from albedo.yaml; a function
	// absent here uses DefaultConfig(). Every entry must Validate.
	Configs map[string]Config
	// RetryDelays are the waits before retry 1 and 2 after a function
	// error [1m, 2m]. A shorter slice repeats its last element.
	RetryDelays []time.Duration
	// BackoffMin and BackoffMax bound the exponential backoff after a
	// throttle or system error [1s, 5m].
	BackoffMin, BackoffMax time.Duration
	// Workers caps concurrent deliveries across all functions [64]. The
	// pool's own limits still apply and a throttle there costs the event a
	// backoff, so keep Workers at or below the pool's MaxConcurrency (and
	// below it to leave room for synchronous traffic).
	Workers int
	// Logger receives the queue's records (component=async) [discard].
	Logger *slog.Logger
	// Now is the clock [time.Now]. Delays are still waited in real time,
	// measured against Now.
	Now func() time.Time
	// Metrics exposes Stats to Prometheus; one per process, given to
	// every Open. nil: none.
	Metrics *Metrics

	// syncFreelist writes bbolt's freelist with every commit instead of
	// rebuilding it at Open (NoFreelistSync): only for the benchmark that
	// measures the choice (see the package doc).
	syncFreelist bool
}

func (o *Options) setDefaults() {
	if len(o.RetryDelays) == 0 {
		o.RetryDelays = []time.Duration{time.Minute, 2 * time.Minute}
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 5 * time.Minute
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	if o.Workers <= 0 {
		o.Workers = 64
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

var (
	bucketEvents  = []byte("events")
	bucketConfigs = []byte("configs")
)

// Queue is the durable asynchronous-invocation queue of all local
// functions: Enqueue stores an event durably, the dispatcher started by
// Start delivers it, retries it and reports its outcome to destinations.
type Queue struct {
	opts Options
	inv  Invoker
	log  *slog.Logger
	db   *bolt.DB
	w    *committer

	cfgMu sync.RWMutex
	file  map[string]Config   // from Options.Configs
	over  map[string]override // changes made through the API

	sched   scheduler
	ctx     context.Context // cancelled when Close gives up waiting
	cancel  context.CancelFunc
	workers sync.WaitGroup
	closed  atomic.Bool
	started atomic.Bool
	once    sync.Once

	fileMu sync.Mutex // serialises file:// destination appends

	st counters
}

// Open opens (or creates) Dir/queue.db and recovers every stored event,
// including those in flight when the previous process died: they are
// delivered again after Start (at-least-once). The file is checked first
// (statefile.Open): a damaged one is a *statefile.DamagedError, one held
// by another process ErrLocked, both wrapped.
func Open(opts Options, inv Invoker) (*Queue, error) {
	opts.setDefaults()
	for name, c := range opts.Configs {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("async: function %s: %w", name, err)
		}
	}
	if opts.Dir == "" {
		return nil, errors.New("async: Options.Dir is empty")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("async: state dir: %w", err)
	}
	db, err := statefile.Open(opts.Dir, StateFile, bolt.Options{
		Timeout:      5 * time.Second, // another albedo holding the lock
		FreelistType: bolt.FreelistMapType,
		// The freelist is rebuilt by a scan on Open instead of being
		// written with every commit: fewer bytes per fsync (etcd does the
		// same; figures and risk in the package doc). Data pages and meta
		// are synced as usual.
		NoFreelistSync: !opts.syncFreelist,
	})
	if err != nil {
		return nil, fmt.Errorf("async: open queue: %w", err)
	}
	q := &Queue{
		opts: opts,
		inv:  inv,
		log:  opts.Logger.With("component", "async"),
		db:   db,
		file: opts.Configs,
		over: make(map[string]override),
	}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	q.sched.init(q, opts.Workers)
	if err := q.recover(); err != nil {
		db.Close()
		return nil, err
	}
	q.w = newCommitter(db)
	opts.Metrics.attach(q)
	return q, nil
}

// recover creates the buckets, loads the API config overrides and
// schedules every stored event at its stored next-attempt time.
func (q *Queue) recover() error {
	var items []item
	var corrupt int
	err := q.db.Update(func(tx *bolt.Tx) error {
		evs, err := tx.CreateBucketIfNotExists(bucketEvents)
		if err != nil {
			return err
		}
		cfgs, err := tx.CreateBucketIfNotExists(bucketConfigs)
		if err != nil {
			return err
		}
		if err := q.loadOverrides(cfgs); err != nil {
			return err
		}
		return evs.ForEach(func(k, v []byte) error {
			var ev *event
			err := fmt.Errorf("%w: key %x", ErrCorruptEvent, k)
			if len(k) == 8 {
				ev, err = decodeEvent(binary.BigEndian.Uint64(k), v)
			}
			if err != nil {
				corrupt++
				q.log.Error("skipping stored event", "err", err)
				return nil
			}
			items = append(items, item{key: ev.Key, function: ev.Function, due: ev.Next})
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("async: recover queue: %w", err)
	}
	q.st.pending.Store(int64(len(items)))
	if len(items) > 0 {
		q.log.Info("recovered async events", "count", len(items), "corrupt", corrupt)
	}
	q.sched.add(items...)
	return nil
}

// Start starts the dispatcher. Events are accepted before Start and wait.
func (q *Queue) Start() {
	if q.closed.Load() || !q.started.CompareAndSwap(false, true) {
		return
	}
	go q.sched.run()
	for range q.opts.Workers {
		q.workers.Add(1)
		go q.worker()
	}
}

// Enqueue stores an Event invocation of function and returns its request
// id once the event is written and fsynced; concurrent calls share one
// transaction and one fsync. payload is copied. It fails with
// executor.ErrFunctionNotFound for an unknown function,
// executor.ErrPayloadTooLarge above MaxPayloadSize, and ErrClosed after
// Close. Once the write is handed over, ctx no longer cancels it.
func (q *Queue) Enqueue(ctx context.Context, function string, payload []byte) (string, error) {
	if q.closed.Load() {
		return "", ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	fn, ok := q.inv.Function(function)
	if !ok {
		return "", fmt.Errorf("async: enqueue %s: %w", function, executor.ErrFunctionNotFound)
	}
	if len(payload) > MaxPayloadSize {
		return "", fmt.Errorf("async: enqueue %s: %d bytes: %w", function, len(payload), executor.ErrPayloadTooLarge)
	}
	ev := q.newEvent(fn, payload)
	val := appendEvent(make([]byte, 0, 64+len(fn.Name)+len(fn.ARN)+len(payload)), ev)
	err := q.w.write(func(tx *bolt.Tx) error {
		return putNew(tx.Bucket(bucketEvents), ev, val)
	})
	if err != nil {
		return "", fmt.Errorf("async: enqueue %s: %w", function, err)
	}
	q.accepted(ev)
	return ev.RequestID, nil
}

// newEvent builds a fresh event for fn, due now.
func (q *Queue) newEvent(fn executor.Function, payload []byte) *event {
	now := q.opts.Now()
	return &event{
		RequestID:   executor.NewRequestID(),
		Function:    fn.Name,
		FunctionARN: fn.ARN,
		Enqueued:    now,
		Next:        now,
		Payload:     payload,
	}
}

// accepted counts a committed new event and schedules it.
func (q *Queue) accepted(ev *event) {
	q.st.accepted.Add(1)
	q.st.pending.Add(1)
	q.sched.add(item{key: ev.Key, function: ev.Function, due: ev.Next})
}

// Closed reports whether Close was called: the queue accepts nothing more.
func (q *Queue) Closed() bool { return q.closed.Load() }

// Close stops dispatching, waits for in-flight deliveries until ctx is
// done, then cancels those still running (their events stay stored and
// are delivered again after the next Open) and closes the database. Close
// the Queue before the Pool it delivers to.
func (q *Queue) Close(ctx context.Context) error {
	var err error
	q.once.Do(func() {
		q.closed.Store(true)
		q.sched.close()
		done := make(chan struct{})
		go func() { q.workers.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = ctx.Err()
			q.cancel()
			<-done
		}
		q.cancel()
		q.w.close()
		if cerr := q.db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("async: close queue: %w", cerr)
		}
		q.opts.Metrics.detach(q)
	})
	return err
}
