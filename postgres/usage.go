package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/silo-dev/silo"
)

// A project's row of project_usage is the last row a transaction locks (after
// the Upload's row, the files' rows and the project's files advisory lock),
// and a transaction that changes several projects' rows locks them in project
// order, so that two transactions never wait for each other in a circle.

// takeUsage adds d to the project's usage, in the one statement that checks
// it against the quota: a count that d raises must stay within its limit (a
// limit of 0 is none), a count d lowers is not checked. The statement locks
// the row whether or not it changes it, so when it refuses, the usage read
// next in the same transaction is the one it checked.
const takeUsage = `
	INSERT INTO project_usage AS u (project, bytes, files, pending_uploads)
	SELECT $1::text, $2::bigint, $3::bigint, $4::bigint
	WHERE ($2 <= 0 OR $5::bigint = 0 OR $2 <= $5)
		AND ($3 <= 0 OR $6::bigint = 0 OR $3 <= $6)
		AND ($4 <= 0 OR $7::bigint = 0 OR $4 <= $7)
	ON CONFLICT (project) DO UPDATE
	SET bytes = u.bytes + excluded.bytes, files = u.files + excluded.files,
		pending_uploads = u.pending_uploads + excluded.pending_uploads
	WHERE ($2 <= 0 OR $5 = 0 OR u.bytes + $2 <= $5)
		AND ($3 <= 0 OR $6 = 0 OR u.files + $3 <= $6)
		AND ($4 <= 0 OR $7 = 0 OR u.pending_uploads + $4 <= $7)`

// take adds d to the usage of project if the project stays within q, and
// returns the error of q.Check otherwise, which the caller returns so that
// its transaction rolls back.
func take(ctx context.Context, tx pgx.Tx, project string, d silo.Usage, q silo.Quota) error {
	tag, err := tx.Exec(ctx, takeUsage, project, d.Bytes, d.Files, d.PendingUploads, q.Bytes, q.Files, q.PendingUploads)
	if err != nil || tag.RowsAffected() == 1 {
		return err
	}
	used, err := loadUsage(ctx, tx, project)
	if err != nil {
		return err
	}
	if err := q.Check(used, d); err != nil {
		return err
	}
	return fmt.Errorf("project %s: usage %+v refused %+v under %+v, which fits", project, used, d, q)
}

// release adds the (negative) changes to their projects' usage, locking the
// rows in project order.
func release(ctx context.Context, tx pgx.Tx, changes map[string]silo.Usage) error {
	projects := make([]string, 0, len(changes))
	for p := range changes {
		projects = append(projects, p)
	}
	slices.Sort(projects)
	for _, p := range projects {
		d := changes[p]
		if _, err := tx.Exec(ctx, `
			UPDATE project_usage SET bytes = bytes + $2, files = files + $3, pending_uploads = pending_uploads + $4
			WHERE project = $1`, p, d.Bytes, d.Files, d.PendingUploads); err != nil {
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
