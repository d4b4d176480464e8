package intake

import "sync/atomic"

// Budget caps the bytes held, process-wide, for request bodies: a body
// reserves its buffer's capacity as the buffer grows with the bytes that
// arrive, and gives it back when its handler is done (Body.Release). One
// Budget is shared by every server of the process. A nil *Budget never
// refuses. Safe for concurrent use.
type Budget struct {
	limit   int64
	inUse   atomic.Int64
	refused atomic.Int64
}

// NewBudget returns a budget of limit bytes (limit <= 0: unlimited, still
// counted).
func NewBudget(limit int64) *Budget {
	return &Budget{limit: limit}
}

// BudgetStats is a snapshot of a Budget.
type BudgetStats struct {
	Limit   int64 // bytes; 0 = unlimited
	InUse   int64 // bytes reserved by bodies now
	Refused int64 // bodies refused because the budget was used up, since start
}

// Stats returns the budget's current figures (zero for a nil Budget).
func (b *Budget) Stats() BudgetStats {
	if b == nil {
		return BudgetStats{}
	}
	return BudgetStats{Limit: max(b.limit, 0), InUse: b.inUse.Load(), Refused: b.refused.Load()}
}

// reserve takes n bytes, or reports false (counting a refusal) when that
// would exceed the limit.
func (b *Budget) reserve(n int) bool {
	if b == nil || n <= 0 {
		return true
	}
	if b.inUse.Add(int64(n)) > b.limit && b.limit > 0 {
		b.inUse.Add(-int64(n))
		b.refused.Add(1)
		return false
	}
	return true
}

// release gives back n reserved bytes.
func (b *Budget) release(n int) {
	if b != nil && n > 0 {
		b.inUse.Add(-int64(n))
	}
}
