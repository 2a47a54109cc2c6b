package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/silo-dev/silo"
)

// querier is what both a pool and a transaction offer for reading.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// uploadCols are the columns loadUpload reads, in its order.
const uploadCols = `id, project, bytes, filename, purpose, mime_type, created_at, expires_at,
	status, file_expires_after, part_ids, md5, file_id, part_bytes, part_count`

// uploadRow is a stored Upload with the columns the interface does not show.
type uploadRow struct {
	u         silo.Upload
	fileID    *string
	partBytes int64
	partCount int
}

// loadUpload returns the Upload of the project, or ENOTFOUND. With lock set
// it holds the row until the transaction ends, so that no other instance
// changes the Upload meanwhile.
func loadUpload(ctx context.Context, q querier, project, id string, lock bool) (*uploadRow, error) {
	query := `SELECT ` + uploadCols + ` FROM uploads WHERE id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	var r uploadRow
	var status string
	err := q.QueryRow(ctx, query, id).Scan(
		&r.u.ID, &r.u.Project, &r.u.Bytes, &r.u.Filename, &r.u.Purpose, &r.u.MimeType,
		&r.u.CreatedAt, &r.u.ExpiresAt, &status, &r.u.FileExpiresAfter, &r.u.PartIDs, &r.u.MD5,
		&r.fileID, &r.partBytes, &r.partCount)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && r.u.Project != project {
		return nil, silo.Errorf(silo.ENOTFOUND, "upload_id", "No upload found with id %q.", id)
	}
	if err != nil {
		return nil, err
	}
	r.u.Status = silo.UploadStatus(status)
	if len(r.u.PartIDs) == 0 {
		r.u.PartIDs = nil
	}
	return &r, nil
}

// view returns the Upload with its File, if it has one.
func (r *uploadRow) view(ctx context.Context, q querier) (*silo.Upload, error) {
	u := r.u
	if r.fileID != nil {
		_, f, err := loadFile(ctx, q, `id = $1`, *r.fileID)
		if err != nil {
			return nil, fmt.Errorf("file %s of upload %s: %w", *r.fileID, u.ID, err)
		}
		u.File = f
	}
	return &u, nil
}

// CreateUpload implements silo.MetaStore.
func (s *MetaStore) CreateUpload(ctx context.Context, u *silo.Upload, q silo.Quota) error {
	if !limits(silo.Usage{PendingUploads: 1}, q) {
		// No check to make: the Upload and its usage in one statement, which
		// is one round trip and a transaction of its own (BEGIN and COMMIT
		// would be two more; durable creates are bound by round trips), sent
		// with the creates waiting beside it.
		return s.creates.do(ctx, u)
	}
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := take(ctx, tx, u.Project, silo.Usage{PendingUploads: 1}, q); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO uploads (id, project, bytes, filename, purpose, mime_type,
				created_at, expires_at, status, file_expires_after)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			u.ID, u.Project, u.Bytes, u.Filename, u.Purpose, u.MimeType,
			u.CreatedAt, u.ExpiresAt, string(u.Status), u.FileExpiresAfter)
		return err
	})
}

// GetUpload implements silo.MetaStore. The Upload and its File are two
// reads, which need no common snapshot: a File row, once written, never
// changes in what the Upload shows of it.
func (s *MetaStore) GetUpload(ctx context.Context, project, id string) (*silo.Upload, error) {
	var u *silo.Upload
	err := s.read(ctx, func(ctx context.Context) error {
		r, err := loadUpload(ctx, s.pool, project, id, false)
		if err != nil {
			return err
		}
		u, err = r.view(ctx, s.pool)
		return err
	})
	return u, err
}

// AddPart implements silo.MetaStore. One statement adds the part to the
// Upload's running totals (part_bytes, part_count), if the Upload is pending,
// unexpired and stays within max, and inserts the part only if that update
// happened. The update locks the Upload's row, so parts, completions and
// cancellations from any instance take turns on it. Only when no part was
// inserted is the Upload read again, to say why. The next statement of the
// same transaction adds the part's bytes to the project's usage if they fit
// in q, or the transaction rolls back.
func (s *MetaStore) AddPart(ctx context.Context, p *silo.Part, now time.Time, max silo.PartLimits, q silo.Quota) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			WITH u AS (
				UPDATE uploads SET part_bytes = part_bytes + $4, part_count = part_count + 1
				WHERE id = $2 AND project = $3 AND status = 'pending'
					AND (expires_at = 0 OR expires_at > $8)
					AND part_bytes + $4 <= $9 AND part_count < $10
				RETURNING id
			)
			INSERT INTO parts (id, upload_id, project, size, created_at, started, blob_key)
			SELECT $1::text, u.id, $3::text, $4::bigint, $5::bigint, $6::bigint, $7::text FROM u`,
			p.ID, p.UploadID, p.Project, p.Size, p.CreatedAt, p.Started, p.BlobKey, now.Unix(), max.Bytes, max.Count)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			return take(ctx, tx, p.Project, silo.Usage{Bytes: p.Size}, q)
		}
		r, err := loadUpload(ctx, tx, p.Project, p.UploadID, false)
		if err != nil {
			return err
		}
		if err := r.u.CheckPending(now); err != nil {
			return err
		}
		if err := max.Check(r.u.ID, r.partCount, r.partBytes+p.Size); err != nil {
			return err
		}
		// The Upload took other parts or left pending since, or the
		// limits are such that no part fits: say it is over them.
		return silo.Errorf(silo.EUPLOADTOOLARGE, "data",
			"The parts of upload %s would exceed its limits of %d parts and %d bytes.", r.u.ID, max.Count, max.Bytes)
	})
}

// ListParts implements silo.MetaStore.
func (s *MetaStore) ListParts(ctx context.Context, project, uploadID string) ([]*silo.Part, error) {
	parts := []*silo.Part{}
	err := s.read(ctx, func(ctx context.Context) error {
		if _, err := loadUpload(ctx, s.pool, project, uploadID, false); err != nil {
			return err
		}
		rows, err := s.pool.Query(ctx, `
			SELECT id, upload_id, project, size, created_at, started, blob_key
			FROM parts WHERE upload_id = $1 ORDER BY started, id`, uploadID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p silo.Part
			if err := rows.Scan(&p.ID, &p.UploadID, &p.Project, &p.Size, &p.CreatedAt, &p.Started, &p.BlobKey); err != nil {
				return err
			}
			parts = append(parts, &p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return parts, nil
}
