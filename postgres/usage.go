package postgres

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/silo-dev/silo"
)

// A project's rows of project_usage are the last rows a transaction locks
// (after the Upload's row, the files' rows and the project's files advisory
// lock), and a transaction that changes several projects' rows locks them in
// project order, so that two transactions never wait for each other in a
// circle.
//
// A project's usage is the sum of its rows (shards, migration 0004). A change
// that raises no count its quota limits goes to one shard (below): it needs
// no check, and concurrent creates of one project do not wait for each
// other's commit. A change that raises a limited count first locks
// shard 0, which every such change does (so they take turns), then every
// shard of the project, and checks their sum: its own statement sees every
// change committed before it, and a change to another shard still under way
// is one no quota limits, which it waits for.
//
// The shard of a change that needs no check is its connection's: each
// connection of the pool is given the shard fewest of the others use, so that
// with no more connections than shards no two transactions of one instance
// ever wait for each other's commit on a usage row (a connection runs one
// transaction at a time). Picked at random for each change instead, 16
// concurrent creates collided on a row often enough that 40% of the busy
// backends were waiting for another's commit.

// usageShards is how many rows a project's usage is spread over.
const usageShards = 16

// shardKey is where a connection's shard is kept, in its CustomData.
const shardKey = "silo.usage_shard"

// shards hands the pool's connections their shards.
type shards struct {
	mu    sync.Mutex
	conns [usageShards]int // connections given each shard
}

// connected gives c a shard.
func (sh *shards) connected(_ context.Context, c *pgx.Conn) error {
	c.PgConn().CustomData()[shardKey] = sh.take()
	return nil
}

// closing gives back the shard of c.
func (sh *shards) closing(c *pgx.Conn) {
	if k, ok := c.PgConn().CustomData()[shardKey].(int); ok {
		sh.give(k)
	}
}

// take returns the shard fewest connections have, the first such from a
// random one on, so that instances sharing the database spread too.
func (sh *shards) take() int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	start := rand.IntN(usageShards)
	best := start
	for i := range usageShards {
		if k := (start + i) % usageShards; sh.conns[k] < sh.conns[best] {
			best = k
		}
	}
	sh.conns[best]++
	return best
}

// give returns a shard that take returned.
func (sh *shards) give(k int) {
	sh.mu.Lock()
	sh.conns[k]--
	sh.mu.Unlock()
}

// shardOf returns the shard of c; one at random for a connection the pool
// did not make.
func shardOf(c *pgx.Conn) int {
	if k, ok := c.PgConn().CustomData()[shardKey].(int); ok {
		return k
	}
	return rand.IntN(usageShards)
}

// addUsage adds to one shard of a project's usage, making it if need be.
const addUsage = `
	INSERT INTO project_usage AS u (project, shard, bytes, files, pending_uploads)
	VALUES ($1::text, $2::int, $3::bigint, $4::bigint, $5::bigint)
	ON CONFLICT (project, shard) DO UPDATE
	SET bytes = u.bytes + excluded.bytes, files = u.files + excluded.files,
		pending_uploads = u.pending_uploads + excluded.pending_uploads`

// take adds d to the usage of project if the project stays within q, and
// returns the error of q.Check otherwise, which the caller returns so that
// its transaction rolls back.
func take(ctx context.Context, tx pgx.Tx, project string, d silo.Usage, q silo.Quota) error {
	if !limits(d, q) {
		_, err := tx.Exec(ctx, addUsage, project, shardOf(tx.Conn()), d.Bytes, d.Files, d.PendingUploads)
		return err
	}
	// Lock shard 0 (made if need be), then every shard, and check the sum.
	if _, err := tx.Exec(ctx, addUsage, project, 0, 0, 0, 0); err != nil {
		return err
	}
	var used silo.Usage
	if err := tx.QueryRow(ctx, `
		SELECT coalesce(sum(bytes), 0)::bigint, coalesce(sum(files), 0)::bigint, coalesce(sum(pending_uploads), 0)::bigint
		FROM (SELECT bytes, files, pending_uploads FROM project_usage WHERE project = $1 ORDER BY shard FOR UPDATE) AS s`,
		project).Scan(&used.Bytes, &used.Files, &used.PendingUploads); err != nil {
		return err
	}
	if err := q.Check(used, d); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, addUsage, project, 0, d.Bytes, d.Files, d.PendingUploads)
	return err
}

// limits reports whether d raises a count that q limits.
func limits(d silo.Usage, q silo.Quota) bool {
	return d.Bytes > 0 && q.Bytes > 0 || d.Files > 0 && q.Files > 0 || d.PendingUploads > 0 && q.PendingUploads > 0
}

// release adds the (negative) changes to their projects' usage, each to the
// connection's shard, in project order.
func release(ctx context.Context, tx pgx.Tx, changes map[string]silo.Usage) error {
	projects := make([]string, 0, len(changes))
	for p := range changes {
		projects = append(projects, p)
	}
	slices.Sort(projects)
	for _, p := range projects {
		d := changes[p]
		if _, err := tx.Exec(ctx, addUsage, p, shardOf(tx.Conn()), d.Bytes, d.Files, d.PendingUploads); err != nil {
			return err
		}
	}
	return nil
}

// loadUsage returns the stored usage of project, or with project "" the sum
// over every project; none stored is zero.
func loadUsage(ctx context.Context, q querier, project string) (silo.Usage, error) {
	// Two statements, so that a project's is a lookup by key.
	where, args := `project = $1`, []any{project}
	if project == "" {
		where, args = `true`, nil
	}
	var u silo.Usage
	err := q.QueryRow(ctx, `
		SELECT coalesce(sum(bytes), 0)::bigint, coalesce(sum(files), 0)::bigint, coalesce(sum(pending_uploads), 0)::bigint
		FROM project_usage WHERE `+where, args...).Scan(&u.Bytes, &u.Files, &u.PendingUploads)
	return u, err
}

// Usage implements silo.MetaStore.
func (s *MetaStore) Usage(ctx context.Context, project string) (silo.Usage, error) {
	var u silo.Usage
	err := s.read(ctx, func(ctx context.Context) (err error) {
		u, err = loadUsage(ctx, s.pool, project)
		return err
	})
	return u, err
}
