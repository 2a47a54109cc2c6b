package sqlite

import (
	"context"
	"database/sql"

	"github.com/silo-dev/silo"
)

// loadUsage returns the stored usage of project, or with project "" the sum
// over every project; none stored is zero.
func loadUsage(ctx context.Context, tx *sql.Tx, project string) (silo.Usage, error) {
	// Two statements, so that a project's is a lookup by key.
	where, args := `project = ?`, []any{project}
	if project == "" {
		where, args = `true`, nil
	}
	var u silo.Usage
	err := tx.QueryRowContext(ctx, `
		SELECT coalesce(sum(bytes), 0), coalesce(sum(files), 0), coalesce(sum(pending_uploads), 0)
		FROM project_usage WHERE `+where, args...).Scan(&u.Bytes, &u.Files, &u.PendingUploads)
	return u, err
}

// take adds d to the usage of project if the project stays within q, and
// returns the error of q.Check otherwise. The writer runs one write at a
// time, so the check and the update are one step.
func take(tx *sql.Tx, project string, d silo.Usage, q silo.Quota) error {
	if q != (silo.Quota{}) {
		used, err := loadUsage(bg, tx, project)
		if err != nil {
			return err
		}
		if err := q.Check(used, d); err != nil {
			return err
		}
	}
	_, err := tx.Exec(`
		INSERT INTO project_usage (project, bytes, files, pending_uploads) VALUES (?, ?, ?, ?)
		ON CONFLICT (project) DO UPDATE SET bytes = bytes + excluded.bytes,
			files = files + excluded.files, pending_uploads = pending_uploads + excluded.pending_uploads`,
		project, d.Bytes, d.Files, d.PendingUploads)
	return err
}

// Usage implements silo.MetaStore.
func (s *MetaStore) Usage(ctx context.Context, project string) (silo.Usage, error) {
	var u silo.Usage
	err := s.readTx(ctx, func(tx *sql.Tx) (err error) {
		u, err = loadUsage(ctx, tx, project)
		return err
	})
	return u, err
}
