package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// writer owns the write connection. Every write is a function of a
// transaction, run by one goroutine; the writes that queue up while a commit
// is under way go into the next transaction together, each in its own
// savepoint, so they share one fsync and a write that fails rolls back alone.
// A caller is answered only once its write is committed, or has failed.
type writer struct {
	db       *sql.DB
	dir      string // of the database file, for telling a full disk
	maxBatch int
	ops      chan *writeOp

	mu     sync.RWMutex // held for reading while sending on ops
	closed bool
	done   chan struct{} // closed when run returns
}

// writeOp is one write and where its outcome goes.
type writeOp struct {
	ctx    context.Context
	fn     func(tx *sql.Tx) error
	result chan error
}

// errClosed is returned for writes after Close.
var errClosed = errors.New("sqlite: store is closed")

func newWriter(db *sql.DB, maxBatch int) *writer {
	w := &writer{db: db, maxBatch: maxBatch, ops: make(chan *writeOp, maxBatch), done: make(chan struct{})}
	go w.run()
	return w
}

// do runs fn in a write transaction and returns once it is committed. fn must
// use only tx and not keep it; its statements do not take ctx, because a
// cancelled caller must not interrupt the others in its batch. If fn returns
// an error, nothing it did is committed. The results fn passes out are valid
// only when do returns nil, or the error fn itself returned.
func (w *writer) do(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &writeOp{ctx: ctx, fn: fn, result: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return errClosed
	}
	select {
	case w.ops <- op:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	return translateWrite(w.dir, <-op.result)
}

// close stops taking writes, waits for those queued, and closes the database.
func (w *writer) close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.ops)
	w.mu.Unlock()
	<-w.done
	return w.db.Close()
}

// run commits batches until ops is closed and drained.
func (w *writer) run() {
	defer close(w.done)
	batch := make([]*writeOp, 0, w.maxBatch)
	for op := range w.ops {
		batch = append(batch[:0], op)
	fill:
		for len(batch) < w.maxBatch {
			select {
			case op, ok := <-w.ops:
				if !ok {
					break fill
				}
				batch = append(batch, op)
			default:
				break fill
			}
		}
		w.commit(batch)
		clear(batch)
	}
}

// commit runs the batch in one transaction and answers every op in it.
func (w *writer) commit(batch []*writeOp) {
	errs := make([]error, len(batch))
	if err := w.runBatch(batch, errs); err != nil {
		// Even an op that failed on its own gets the batch's error: what it
		// read may have been written by ops now rolled back.
		for i := range errs {
			errs[i] = err
		}
	}
	for i, op := range batch {
		op.result <- errs[i]
	}
}

// runBatch runs the ops of batch, recording each op's own failure in errs,
// and commits. An error it returns means that nothing was committed.
func (w *writer) runBatch(batch []*writeOp, errs []error) error {
	tx, err := w.db.Begin()
	if err != nil {
		return err
	}
	if len(batch) == 1 {
		// Alone in its transaction, an op needs no savepoint.
		if errs[0] = runOp(batch[0], tx); errs[0] != nil {
			tx.Rollback() // nothing to keep; errs[0] says why
			return nil
		}
		return tx.Commit()
	}
	for i, op := range batch {
		if _, err := tx.Exec(`SAVEPOINT op`); err != nil {
			tx.Rollback()
			return err
		}
		if errs[i] = runOp(op, tx); errs[i] != nil {
			if _, err := tx.Exec(`ROLLBACK TO op`); err != nil {
				tx.Rollback()
				return err
			}
		}
		if _, err := tx.Exec(`RELEASE op`); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// runOp runs op unless its caller gave up before it started.
func runOp(op *writeOp, tx *sql.Tx) error {
	if err := op.ctx.Err(); err != nil {
		return err
	}
	return op.fn(tx)
}
