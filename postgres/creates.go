package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/silo-dev/silo"
)

// createSQL makes an Upload that no quota limits and adds it to one shard of
// its project's pending uploads ($2), in one statement.
const createSQL = `WITH usage AS (` + addUsage + `)
	INSERT INTO uploads (id, project, bytes, filename, purpose, mime_type,
		created_at, expires_at, status, file_expires_after)
	VALUES ($6, $1, $7, $8, $9, $10, $11, $12, $13, $14)`

// createLanes is how many batches of creates are committed at once, and
// maxCreateBatch how many creates one batch takes at most. One lane made the
// most creates per second with 16 clients, and cost the least CPU (silo-bench
// --db, alternating runs: one lane beat two in each of 4 rounds, 2,047–3,692/s
// against 1,649–3,620/s, and four in each of 3, 1,006–2,787/s against
// 886–1,628/s); PostgreSQL flushes one commit's WAL at a time anyway.
const (
	createLanes    = 1
	maxCreateBatch = 64
)

// creates makes the Uploads that no quota limits (group commit): a create
// that finds fewer than createLanes batches under way is sent at once, in a
// batch of its own; one that finds them all busy waits, and the first of
// those waiting, once a lane is free, sends itself and the creates queued
// behind it (up to maxCreateBatch) in one batch: their statements in one
// round trip (a pipeline with one Sync), which PostgreSQL runs as one
// transaction with one commit. So concurrent creates share round trips,
// statements' overhead and WAL flushes, and a lone create waits for nobody.
// No goroutine of its own: each batch is sent by the caller at its head,
// which answers the others after the commit.
type creates struct {
	commit func(ctx context.Context, batch []*createOp) []error // the store's commitCreates

	mu    sync.Mutex
	busy  int         // lanes in use
	queue []*createOp // creates waiting for a lane
}

// createOp is one create and where its outcome goes.
type createOp struct {
	u    *silo.Upload
	done chan createResult
}

// createResult is the outcome of a create, or lead: its turn to send a batch.
type createResult struct {
	err  error
	lead bool
}

// do makes u, returning once it is committed or has failed. As with exec,
// the caller's cancellation does not interrupt it.
func (c *creates) do(ctx context.Context, u *silo.Upload) error {
	op := &createOp{u: u, done: make(chan createResult, 1)}
	c.mu.Lock()
	if c.busy < createLanes {
		c.busy++
		c.mu.Unlock()
	} else {
		c.queue = append(c.queue, op)
		c.mu.Unlock()
		if r := <-op.done; !r.lead {
			return r.err
		}
	}
	// This caller has a lane: it sends itself and those waiting behind it.
	c.mu.Lock()
	n := min(len(c.queue), maxCreateBatch-1)
	batch := make([]*createOp, 0, n+1)
	batch = append(append(batch, op), c.queue[:n]...)
	c.queue = slices.Delete(c.queue, 0, n)
	c.mu.Unlock()

	errs := c.commit(ctx, batch)
	for i, o := range batch[1:] {
		o.done <- createResult{err: errs[i+1]}
	}

	// Hand the lane on to the first waiting, or free it.
	c.mu.Lock()
	if len(c.queue) > 0 {
		next := c.queue[0]
		c.queue = slices.Delete(c.queue, 0, 1)
		c.mu.Unlock()
		next.done <- createResult{lead: true}
	} else {
		c.busy--
		c.mu.Unlock()
	}
	return errs[0]
}

// commitCreates makes the batch's Uploads in one transaction and returns
// each one's error. If the server refused a statement, nothing was made, and
// each is made again alone, so that only the one at fault fails.
func (s *MetaStore) commitCreates(ctx context.Context, batch []*createOp) []error {
	errs := make([]error, len(batch))
	var raw error
	err := s.exec(ctx, func(ctx context.Context) error {
		raw = s.sendCreates(ctx, batch)
		return raw
	})
	var pe *pgconn.PgError
	switch {
	case err == nil:
	case len(batch) > 1 && errors.As(raw, &pe):
		for i := range batch {
			errs[i] = s.exec(ctx, func(ctx context.Context) error { return s.sendCreates(ctx, batch[i:i+1]) })
		}
	default:
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

// sendCreates runs the batch's statements in one round trip, on one
// connection and its usage shard, in project order: transactions of several
// instances that share a shard then take the rows of projects in one order,
// and never wait for each other in a circle.
func (s *MetaStore) sendCreates(ctx context.Context, batch []*createOp) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	shard := shardOf(conn.Conn())
	args := func(u *silo.Upload) []any {
		return []any{u.Project, shard, 0, 0, 1,
			u.ID, u.Bytes, u.Filename, u.Purpose, u.MimeType,
			u.CreatedAt, u.ExpiresAt, string(u.Status), u.FileExpiresAfter}
	}
	if len(batch) == 1 {
		_, err := conn.Exec(ctx, createSQL, args(batch[0].u)...)
		return err
	}
	sorted := slices.Clone(batch)
	slices.SortStableFunc(sorted, func(a, b *createOp) int { return cmp.Compare(a.u.Project, b.u.Project) })
	var b pgx.Batch
	for _, o := range sorted {
		b.Queue(createSQL, args(o.u)...)
	}
	return conn.SendBatch(ctx, &b).Close()
}
