package balancer

import (
	"math/bits"
	"math/rand/v2"
	"sync"
	"time"
)

// forwardAction sends the request to one of its target groups.
type forwardAction struct {
	id     string // binds stickiness cookies to this action
	groups []weightedTarget
	total  int // sum of weights

	sticky   bool
	duration time.Duration
}

// weightedTarget is one group of a forward action. It owns the range
// [upTo-weight, upTo) of the weight line; a weight-0 group owns nothing and
// is never picked.
type weightedTarget struct {
	name     string
	arn      string // for the access log; "" when unknown
	function string // the group's target function, for logs; "" when unknown
	fwd      Forwarder
	weight   int
	upTo     int
	m        *targetMetrics // nil without metrics
}

// pick chooses a group index in proportion to the weights, or -1 when every
// weight is 0.
func (f *forwardAction) pick(rng *lockedRand) int {
	switch {
	case f.total == 0:
		return -1
	case len(f.groups) == 1:
		return 0
	}
	n := rng.intN(f.total)
	for i := range f.groups {
		if n < f.groups[i].upTo {
			return i
		}
	}
	return len(f.groups) - 1 // unreachable: n < total == last upTo
}

// lookup returns the index of the group called name with a non-zero
// weight, or -1.
func (f *forwardAction) lookup(name []byte) int {
	for i := range f.groups {
		if f.groups[i].weight > 0 && string(name) == f.groups[i].name {
			return i
		}
	}
	return -1
}

// lockedRand serialises a math/rand/v2 source so one can be shared by every
// handler goroutine. With no source it uses the runtime's per-thread
// generator, which needs no lock.
type lockedRand struct {
	mu  sync.Mutex
	src rand.Source
}

func (r *lockedRand) intN(n int) int {
	if r == nil || r.src == nil {
		return rand.IntN(n)
	}
	r.mu.Lock()
	v := r.src.Uint64()
	r.mu.Unlock()
	// Multiply-shift keeps the bias below 2^-40 for n <= 5*999.
	hi, _ := bits.Mul64(v, uint64(n))
	return int(hi)
}
