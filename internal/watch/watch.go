package watch

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Defaults of Options.
const (
	DefaultDebounce     = 100 * time.Millisecond
	DefaultPollInterval = 500 * time.Millisecond
)

// maxPaths bounds the paths one Change carries (a checkout can touch
// thousands); Change.More counts the rest.
const maxPaths = 20

// Options configures a Watcher. Zero values take the defaults.
type Options struct {
	// Debounce is the quiet time after a target's last event before its
	// Change is reported; events keep merging for at most 10×Debounce.
	// [100ms]
	Debounce time.Duration
	// PollInterval is how often polled directories are scanned. [500ms]
	PollInterval time.Duration
	// Poll scans every directory instead of using file-system events.
	Poll bool
	// Logger receives which directories are polled and why, and event
	// errors (component=watch). [discard]
	Logger *slog.Logger
}

// Target is something to watch, reported by Name.
type Target struct {
	Name string
	// Files are files watched through their directory: created, written,
	// removed, or replaced by a rename.
	Files []string
	// Trees are directories watched with everything below them.
	Trees []string
	// Ignore, when set, drops more paths (absolute) than the built-in
	// rules.
	Ignore func(path string) bool
}

// Change is one debounced change of a target.
type Change struct {
	Target string
	// Paths are the changed paths (absolute, sorted), at most 20; More
	// counts those left out.
	Paths []string
	More  int
}

// Watcher watches targets. See the package doc.
type Watcher struct {
	opts Options
	log  *slog.Logger
	out  chan Change
	ctl  chan func()
	done chan struct{}
	gone chan struct{} // closed when the loop ended

	// Owned by the loop goroutine.
	fsw     *fsnotify.Watcher // nil: every directory is polled
	targets []*target
	roots   map[rootKey]*root
	refs    map[string]int // directories added to fsw, by how many roots
	held    map[string]*hold
	queue   []*Change
}

type target struct {
	Target
	files   map[string]bool // cleaned Files
	trees   []string        // cleaned Trees
	pending map[string]bool // changed paths; true: created within the window
	first   time.Time       // first and last pending event
	last    time.Time
}

type rootKey struct {
	path      string
	recursive bool
}

// root is a watched directory: a tree's top, or the directory of a file.
type root struct {
	rootKey
	poll bool
	dirs []string             // directories added to fsw (events)
	snap map[string]fileState // last scan (polling)
}

type hold struct {
	n       int
	outputs map[string]bool // paths written while held: the build's outputs
	until   time.Time       // after the last release, late events of outputs are dropped until then
}

// New starts a Watcher with no targets.
func New(opts Options) *Watcher {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{
		opts:  opts,
		log:   opts.Logger.With("component", "watch"),
		out:   make(chan Change),
		ctl:   make(chan func()),
		done:  make(chan struct{}),
		gone:  make(chan struct{}),
		roots: map[rootKey]*root{},
		refs:  map[string]int{},
		held:  map[string]*hold{},
	}
	if !opts.Poll {
		fsw, err := fsnotify.NewWatcher()
		if err != nil {
			w.log.Warn("file events unavailable, polling every directory", "interval", opts.PollInterval, "err", err)
		} else {
			w.fsw = fsw
		}
	}
	go w.loop()
	return w
}

// Changes delivers the debounced changes. It is closed by Close.
func (w *Watcher) Changes() <-chan Change { return w.out }

// Set replaces the targets. Directories kept from the previous set keep
// their watches (and polling reference), so nothing in them is missed.
func (w *Watcher) Set(targets []Target) {
	w.do(func() { w.set(targets) })
}

// Hold drops the changes written below dir until release is called, and
// for Options.Debounce after it (see the package doc). Holds nest.
func (w *Watcher) Hold(dir string) (release func()) {
	dir = filepath.Clean(dir)
	w.do(func() {
		h := w.held[dir]
		if h == nil {
			h = &hold{outputs: map[string]bool{}}
			w.held[dir] = h
		}
		h.n++
	})
	return func() {
		w.do(func() {
			h := w.held[dir]
			h.n--
			h.until = time.Now().Add(w.opts.Debounce)
			w.rebase(dir)
		})
	}
}

// Close stops watching and closes Changes.
func (w *Watcher) Close() error {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	<-w.gone
	return nil
}

// do runs f on the loop goroutine and waits for it; after Close it does
// nothing.
func (w *Watcher) do(f func()) {
	ran := make(chan struct{})
	select {
	case w.ctl <- func() { f(); close(ran) }:
		<-ran
	case <-w.gone:
	}
}

func (w *Watcher) loop() {
	defer close(w.gone)
	defer close(w.out)
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w.fsw != nil {
		events, errs = w.fsw.Events, w.fsw.Errors
		defer w.fsw.Close()
	}
	tick := time.NewTicker(w.opts.PollInterval)
	defer tick.Stop()
	due := time.NewTimer(time.Hour)
	defer due.Stop()
	for {
		var out chan Change
		var next Change
		if len(w.queue) > 0 {
			out, next = w.out, *w.queue[0]
		}
		if d, ok := w.nextDue(); ok {
			due.Reset(time.Until(d))
		}
		select {
		case <-w.done:
			return
		case f := <-w.ctl:
			f()
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			w.event(ev)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			w.eventError(err)
		case <-tick.C:
			w.poll()
		case <-due.C:
			w.flush(time.Now())
		case out <- next:
			w.queue = w.queue[1:]
		}
	}
}

// set installs targets: every file's directory and every tree becomes a
// root; roots no target needs any more are dropped.
func (w *Watcher) set(targets []Target) {
	w.targets = w.targets[:0]
	want := map[rootKey]bool{}
	for _, t := range targets {
		tt := &target{Target: t, files: map[string]bool{}, pending: map[string]bool{}}
		for _, f := range t.Files {
			f = filepath.Clean(f)
			tt.files[f] = true
			want[rootKey{filepath.Dir(f), false}] = true
		}
		for _, d := range t.Trees {
			d = filepath.Clean(d)
			tt.trees = append(tt.trees, d)
			want[rootKey{d, true}] = true
		}
		w.targets = append(w.targets, tt)
	}
	for k, r := range w.roots {
		if !want[k] {
			w.dropRoot(r)
			delete(w.roots, k)
		}
	}
	keys := make([]rootKey, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b rootKey) int { return strings.Compare(a.path, b.path) })
	for _, k := range keys {
		if w.roots[k] == nil {
			w.roots[k] = w.addRoot(k)
		}
	}
}

// addRoot starts watching a root, with events when it can.
func (w *Watcher) addRoot(k rootKey) *root {
	r := &root{rootKey: k}
	why := ""
	switch {
	case w.opts.Poll:
		why = "-watch-poll"
	case w.fsw == nil:
		why = "file events unavailable"
	default:
		if fs, ok := eventlessFS(k.path); ok {
			why = "on " + fs + ", whose changes made elsewhere send no events"
		}
	}
	if why == "" {
		if err := w.addDirs(r, k.path); err != nil {
			w.removeDirs(r)
			why = "file events failed: " + err.Error()
			if errors.Is(err, errNoSpace) {
				why += " (raise fs.inotify.max_user_watches to watch it with events)"
			}
		}
	}
	if why != "" {
		r.poll = true
		r.snap = scan(k.path, k.recursive)
		w.log.Info("polling", "path", k.path, "interval", w.opts.PollInterval, "reason", why)
	}
	return r
}

// addDirs adds dir to fsw, and for a recursive root every directory below
// it that is not ignored.
func (w *Watcher) addDirs(r *root, dir string) error {
	add := func(d string) error {
		if w.refs[d] == 0 {
			if err := addWatch(w.fsw, d); err != nil {
				return err
			}
		}
		w.refs[d]++
		r.dirs = append(r.dirs, d)
		return nil
	}
	if !r.recursive {
		err := add(dir)
		if errors.Is(err, os.ErrNotExist) {
			return nil // the file's directory may come later; nothing to see until then
		}
		return err
	}
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, os.ErrNotExist) {
				return filepath.SkipAll
			}
			return nil // unreadable below the root: skipped
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && ignoredDir(d.Name()) {
			return filepath.SkipDir
		}
		return add(p)
	})
}

func (w *Watcher) removeDirs(r *root) {
	for _, d := range r.dirs {
		w.refs[d]--
		if w.refs[d] <= 0 {
			delete(w.refs, d)
			_ = w.fsw.Remove(d) // gone already when the directory was removed
		}
	}
	r.dirs = nil
}

func (w *Watcher) dropRoot(r *root) {
	if !r.poll {
		w.removeDirs(r)
	}
}

// event handles one file-system event.
func (w *Watcher) event(ev fsnotify.Event) {
	p := filepath.Clean(ev.Name)
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(p); err == nil && fi.IsDir() && !ignoredDir(fi.Name()) {
			// A new directory in a tree: watch it, and report what it
			// already holds (written before the watch was in place).
			for _, r := range w.roots {
				if r.recursive && !r.poll && within(p, r.path) {
					_ = w.addDirs(r, p)
				}
			}
			for f, st := range scan(p, true) {
				if !st.mode.IsDir() {
					w.dispatch(f, true)
				}
			}
			return // an empty new directory changes no code; what it holds was reported
		}
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		if w.refs[p] > 0 {
			// The kernel dropped the watch with the directory.
			delete(w.refs, p)
			for _, r := range w.roots {
				r.dirs = slices.DeleteFunc(r.dirs, func(d string) bool { return d == p })
			}
		}
	}
	w.dispatch(p, ev.Has(fsnotify.Create))
}

// eventError handles an error of the event queue.
func (w *Watcher) eventError(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		w.log.Warn("file events overflowed: changes were lost, reporting every target as changed", "err", err)
		for _, t := range w.targets {
			for f := range t.files {
				w.mark(t, f, false)
			}
			for _, d := range t.trees {
				w.mark(t, d, false)
			}
		}
		return
	}
	w.log.Warn("file event error", "err", err)
}

// poll scans every polled root and dispatches the differences.
func (w *Watcher) poll() {
	for _, r := range w.roots {
		if !r.poll {
			continue
		}
		w.diff(r, scan(r.path, r.recursive), "")
	}
}

// diff dispatches what changed from r's reference to next, except below
// skip (when not ""), and makes next the reference. A new directory is
// not a change of its own (its files are); a removed or renamed one is.
func (w *Watcher) diff(r *root, next map[string]fileState, skip string) {
	for p, st := range next {
		if skip != "" && within(p, skip) {
			continue
		}
		if old, ok := r.snap[p]; !ok && !st.mode.IsDir() || ok && old != st {
			w.dispatch(p, !ok)
		}
	}
	for p := range r.snap {
		if _, ok := next[p]; !ok && (skip == "" || !within(p, skip)) {
			w.dispatch(p, false)
		}
	}
	r.snap = next
}

// rebase takes the current state below dir as the polled roots'
// reference, without reporting it: the end of a Hold.
func (w *Watcher) rebase(dir string) {
	for _, r := range w.roots {
		if !r.poll || !(within(dir, r.path) || within(r.path, dir)) {
			continue
		}
		w.diff(r, scan(r.path, r.recursive), dir)
	}
}

// dispatch records a changed path for every target it belongs to;
// created: the path came into being with this change.
func (w *Watcher) dispatch(p string, created bool) {
	if w.isHeld(p, time.Now()) {
		return
	}
	for _, t := range w.targets {
		if t.files[p] {
			if !ignoredName(filepath.Base(p)) && (t.Ignore == nil || !t.Ignore(p)) {
				w.mark(t, p, created)
			}
			continue
		}
		for _, d := range t.trees {
			if within(p, d) && !ignoredBelow(p, d) && (t.Ignore == nil || !t.Ignore(p)) {
				w.mark(t, p, created)
				break
			}
		}
	}
}

func (w *Watcher) mark(t *target, p string, created bool) {
	now := time.Now()
	if len(t.pending) == 0 {
		t.first = now
	}
	t.last = now
	if _, seen := t.pending[p]; !seen {
		t.pending[p] = created
	}
}

// isHeld reports whether p is a build's output: written below a held
// directory while it is held, or a late event of such a path just after.
func (w *Watcher) isHeld(p string, now time.Time) bool {
	held := false
	for dir, h := range w.held {
		switch {
		case h.n > 0:
			if within(p, dir) {
				h.outputs[p] = true
				held = true
			}
		case now.Before(h.until):
			held = held || h.outputs[p]
		default:
			delete(w.held, dir)
		}
	}
	return held
}

// nextDue is when the earliest pending target is due.
func (w *Watcher) nextDue() (time.Time, bool) {
	var d time.Time
	for _, t := range w.targets {
		if len(t.pending) == 0 {
			continue
		}
		if td := t.due(w.opts.Debounce); d.IsZero() || td.Before(d) {
			d = td
		}
	}
	return d, !d.IsZero()
}

func (t *target) due(debounce time.Duration) time.Time {
	quiet, most := t.last.Add(debounce), t.first.Add(10*debounce)
	if most.Before(quiet) {
		return most
	}
	return quiet
}

// flush queues the Change of every target that is due.
func (w *Watcher) flush(now time.Time) {
	for _, t := range w.targets {
		if len(t.pending) == 0 || now.Before(t.due(w.opts.Debounce)) {
			continue
		}
		// A path created and gone again within the window (a temporary
		// file: sed -i's, an editor's) changed nothing.
		for p, created := range t.pending {
			if _, err := os.Lstat(p); created && errors.Is(err, fs.ErrNotExist) {
				delete(t.pending, p)
			}
		}
		if len(t.pending) == 0 {
			continue
		}
		var c *Change
		for _, q := range w.queue {
			if q.Target == t.Name {
				c = q // not taken yet: merge
			}
		}
		if c == nil {
			c = &Change{Target: t.Name}
			w.queue = append(w.queue, c)
		}
		for p := range t.pending {
			if !slices.Contains(c.Paths, p) {
				c.Paths = append(c.Paths, p)
			}
		}
		slices.Sort(c.Paths)
		if n := len(c.Paths); n > maxPaths {
			c.More += n - maxPaths
			c.Paths = c.Paths[:maxPaths]
		}
		clear(t.pending)
	}
}

// addWatch adds dir to fsw; tests replace it to make it fail.
var addWatch = func(fsw *fsnotify.Watcher, dir string) error { return fsw.Add(dir) }

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir) && len(p) > len(dir) && (p[len(dir)] == filepath.Separator || dir == string(filepath.Separator))
}
