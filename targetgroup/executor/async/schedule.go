package async

import (
	"container/heap"
	"sync"
	"time"
)

// item is an event's place in the in-memory schedule; the event itself
// stays in the database and is read by the worker that delivers it.
type item struct {
	key      uint64
	function string
	due      time.Time
}

// scheduler orders events by due time and hands ready ones to the
// workers. One goroutine (run) owns the heap, the ready FIFO and the
// per-function in-flight counts; other goroutines reach it only through
// add (mutex + notify) and the finished channel. It keeps no more than a
// function's reserved concurrency in flight for that function, so the
// queue does not throttle itself; the account-wide limit is left to the
// pool (a throttle there means backoff).
type scheduler struct {
	q       *Queue
	workers int

	mu       sync.Mutex
	incoming []item
	closed   bool
	notify   chan struct{} // capacity 1
	stop     chan struct{}

	work     chan item   // capacity workers; closed when run returns
	finished chan string // function of a finished item; capacity workers

	// Owned by run.
	delayed  itemHeap
	ready    fifo
	blocked  map[string][]item // waiting for the function's reserved concurrency
	inflight map[string]int
	busy     int
}

func (s *scheduler) init(q *Queue, workers int) {
	s.q = q
	s.workers = workers
	s.notify = make(chan struct{}, 1)
	s.stop = make(chan struct{})
	s.work = make(chan item, workers)
	s.finished = make(chan string, workers)
	s.blocked = make(map[string][]item)
	s.inflight = make(map[string]int)
}

// add schedules items; safe from any goroutine, before or after Start.
func (s *scheduler) add(items ...item) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.incoming = append(s.incoming, items...)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *scheduler) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
}

func (s *scheduler) run() {
	defer close(s.work)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var spare []item
	for {
		s.mu.Lock()
		in := s.incoming
		s.incoming = spare[:0]
		s.mu.Unlock()
		now := s.q.opts.Now()
		for _, it := range in {
			if it.due.After(now) {
				heap.Push(&s.delayed, it)
			} else {
				s.ready.push(it)
			}
		}
		spare = in
		clear(spare)
		for len(s.delayed) > 0 && !s.delayed[0].due.After(now) {
			s.ready.push(heap.Pop(&s.delayed).(item))
		}
		for s.busy < s.workers && s.ready.len() > 0 {
			it := s.ready.pop()
			if s.capped(it.function) {
				s.blocked[it.function] = append(s.blocked[it.function], it)
				continue
			}
			s.inflight[it.function]++
			s.busy++
			s.work <- it // never blocks: len(work) <= busy <= workers
		}
		var tick <-chan time.Time
		if len(s.delayed) > 0 {
			timer.Reset(s.delayed[0].due.Sub(now))
			tick = timer.C
		}
		select {
		case <-s.notify:
		case f := <-s.finished:
			s.done(f)
		drain:
			for {
				select {
				case f := <-s.finished:
					s.done(f)
				default:
					break drain
				}
			}
		case <-tick:
		case <-s.stop:
			return
		}
		timer.Stop()
	}
}

// capped reports whether function already has its reserved concurrency in
// flight. Reserved 0 is not capped: the worker sends such events straight
// to on_failure.
func (s *scheduler) capped(function string) bool {
	fn, ok := s.q.inv.Function(function)
	return ok && fn.Reserved > 0 && s.inflight[function] >= fn.Reserved
}

func (s *scheduler) done(function string) {
	s.busy--
	if s.inflight[function]--; s.inflight[function] <= 0 {
		delete(s.inflight, function)
	}
	if b := s.blocked[function]; len(b) > 0 {
		s.ready.push(b[0])
		b[0] = item{}
		if len(b) == 1 {
			delete(s.blocked, function)
		} else {
			s.blocked[function] = b[1:]
		}
	}
}

// itemHeap is a min-heap of items by due time.
type itemHeap []item

func (h itemHeap) Len() int           { return len(h) }
func (h itemHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h itemHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)        { *h = append(*h, x.(item)) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = item{}
	*h = old[:len(old)-1]
	return it
}

// fifo is a slice-backed queue.
type fifo struct {
	items []item
	head  int
}

func (f *fifo) len() int { return len(f.items) - f.head }

func (f *fifo) push(it item) {
	if f.head > 0 && f.head >= len(f.items)/2 {
		n := copy(f.items, f.items[f.head:])
		clear(f.items[n:])
		f.items = f.items[:n]
		f.head = 0
	}
	f.items = append(f.items, it)
}

func (f *fifo) pop() item {
	it := f.items[f.head]
	f.items[f.head] = item{}
	f.head++
	if f.head == len(f.items) {
		f.items = f.items[:0]
		f.head = 0
	}
	return it
}
