package async

import (
	bolt "go.etcd.io/bbolt"
)

// maxBatch caps the writes folded into one transaction.
const maxBatch = 1024

// writeOp is one write waiting for a group commit.
type writeOp struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// committer is a group-commit writer: one goroutine takes the first waiting
// write, gathers every write that arrived meanwhile, and commits them in one
// bbolt transaction and so one fsync. Unlike bbolt's DB.Batch it adds no
// fixed delay: a lone write commits at once, and writes arriving during a
// commit share the next one. Every caller returns only after its write is
// durable.
type committer struct {
	db   *bolt.DB
	ops  chan writeOp // unbuffered: a send succeeds only into a live committer
	stop chan struct{}
	done chan struct{}
}

func newCommitter(db *bolt.DB) *committer {
	c := &committer{db: db, ops: make(chan writeOp), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// write runs fn in a write transaction and returns once it is committed
// and synced, or ErrClosed when the committer has stopped.
func (c *committer) write(fn func(*bolt.Tx) error) error {
	op := writeOp{fn: fn, done: make(chan error, 1)}
	select {
	case c.ops <- op:
	case <-c.done:
		return ErrClosed
	}
	return <-op.done
}

// close stops the committer after the writes already handed over.
func (c *committer) close() {
	close(c.stop)
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	batch := make([]writeOp, 0, 64)
	for {
		select {
		case op := <-c.ops:
			batch = append(batch[:0], op)
		case <-c.stop:
			return
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case op := <-c.ops:
				batch = append(batch, op)
			default:
				break gather
			}
		}
		c.commit(batch)
		clear(batch)
	}
}

// commit applies batch in one transaction. If that fails, each write is
// retried alone so one bad write cannot fail the others (bbolt's Batch
// does the same).
func (c *committer) commit(batch []writeOp) {
	err := c.db.Update(func(tx *bolt.Tx) error {
		for _, op := range batch {
			if err := op.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(batch) == 1 {
		for _, op := range batch {
			op.done <- err
		}
		return
	}
	for _, op := range batch {
		op.done <- c.db.Update(op.fn)
	}
}
