package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/silo-dev/silo"
)

// bg is the context of statements run by the writer: a caller that gives up
// must not interrupt the batch it shares with others.
var bg = context.Background()

// uploadRow is a stored Upload with the columns the interface does not show.
type uploadRow struct {
	u         silo.Upload
	fileID    sql.NullString
	partBytes int64
	partCount int
}

// loadUpload returns the Upload of the project, or ENOTFOUND.
func loadUpload(ctx context.Context, tx *sql.Tx, project, id string) (*uploadRow, error) {
	var r uploadRow
	var status, partIDs string
	err := tx.QueryRowContext(ctx, `
		SELECT id, project, bytes, filename, purpose, mime_type, created_at, expires_at,
			status, file_expires_after, part_ids, md5, file_id, part_bytes, part_count
		FROM uploads WHERE id = ?`, id).Scan(
		&r.u.ID, &r.u.Project, &r.u.Bytes, &r.u.Filename, &r.u.Purpose, &r.u.MimeType,
		&r.u.CreatedAt, &r.u.ExpiresAt, &status, &r.u.FileExpiresAfter, &partIDs, &r.u.MD5,
		&r.fileID, &r.partBytes, &r.partCount)
	if errors.Is(err, sql.ErrNoRows) || err == nil && r.u.Project != project {
		return nil, silo.Errorf(silo.ENOTFOUND, "upload_id", "No upload found with id %q.", id)
	}
	if err != nil {
		return nil, err
	}
	r.u.Status = silo.UploadStatus(status)
	if err := json.Unmarshal([]byte(partIDs), &r.u.PartIDs); err != nil {
		return nil, fmt.Errorf("upload %s: part_ids: %w", id, err)
	}
	if len(r.u.PartIDs) == 0 {
		r.u.PartIDs = nil
	}
	return &r, nil
}

// view returns the Upload with its File, if it has one.
func (r *uploadRow) view(ctx context.Context, tx *sql.Tx) (*silo.Upload, error) {
	u := r.u
	if r.fileID.Valid {
		_, f, err := loadFile(ctx, tx, `id = ?`, r.fileID.String)
		if err != nil {
			return nil, fmt.Errorf("file %s of upload %s: %w", r.fileID.String, u.ID, err)
		}
		u.File = f
	}
	return &u, nil
}

// CreateUpload implements silo.MetaStore.
func (s *MetaStore) CreateUpload(ctx context.Context, u *silo.Upload, q silo.Quota) error {
	return s.w.do(ctx, func(tx *sql.Tx) error {
		if err := take(tx, u.Project, silo.Usage{PendingUploads: 1}, q); err != nil {
			return err
		}
		_, err := tx.Exec(`
			INSERT INTO uploads (id, project, bytes, filename, purpose, mime_type,
				created_at, expires_at, status, file_expires_after)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Project, u.Bytes, u.Filename, u.Purpose, u.MimeType,
			u.CreatedAt, u.ExpiresAt, string(u.Status), u.FileExpiresAfter)
		return err
	})
}

// GetUpload implements silo.MetaStore.
func (s *MetaStore) GetUpload(ctx context.Context, project, id string) (*silo.Upload, error) {
	var u *silo.Upload
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		r, err := loadUpload(ctx, tx, project, id)
		if err != nil {
			return err
		}
		u, err = r.view(ctx, tx)
		return err
	})
	return u, err
}

// AddPart implements silo.MetaStore. The writer runs it alone, so the check
// of the running totals part_bytes and part_count, and of the project's
// usage, and their update are one step.
func (s *MetaStore) AddPart(ctx context.Context, p *silo.Part, now time.Time, max silo.PartLimits, q silo.Quota) error {
	return s.w.do(ctx, func(tx *sql.Tx) error {
		r, err := loadUpload(bg, tx, p.Project, p.UploadID)
		if err != nil {
			return err
		}
		if err := r.u.CheckPending(now); err != nil {
			return err
		}
		if err := max.Check(r.u.ID, r.partCount, r.partBytes+p.Size); err != nil {
			return err
		}
		if err := take(tx, p.Project, silo.Usage{Bytes: p.Size}, q); err != nil {
			return err
		}
		if _, err := tx.Exec(`
			INSERT INTO parts (id, upload_id, project, size, created_at, started, blob_key)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.UploadID, p.Project, p.Size, p.CreatedAt, p.Started, p.BlobKey); err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE uploads SET part_bytes = part_bytes + ?, part_count = part_count + 1 WHERE id = ?`, p.Size, p.UploadID)
		return err
	})
}

// ListParts implements silo.MetaStore.
func (s *MetaStore) ListParts(ctx context.Context, project, uploadID string) ([]*silo.Part, error) {
	parts := []*silo.Part{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if _, err := loadUpload(ctx, tx, project, uploadID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT id, upload_id, project, size, created_at, started, blob_key
			FROM parts WHERE upload_id = ? ORDER BY started, id`, uploadID)
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
	return parts, err
}

// dropParts forgets the parts of the Upload, queueing as garbage the blobs
// that are not among the blobs of the File with seq keep (0 for none).
func dropParts(tx *sql.Tx, uploadID string, keep int64, now time.Time) error {
	if _, err := tx.Exec(`
		INSERT INTO garbage (key, queued_at)
		SELECT blob_key, ? FROM parts
		WHERE upload_id = ? AND blob_key NOT IN (SELECT key FROM file_blobs WHERE file_seq = ?)
		ON CONFLICT (key) DO NOTHING`, now.UnixNano(), uploadID, keep); err != nil {
		return err
	}
	_, err := tx.Exec(`DELETE FROM parts WHERE upload_id = ?`, uploadID)
	return err
}

// CompleteUpload implements silo.MetaStore.
func (s *MetaStore) CompleteUpload(ctx context.Context, c *silo.Completion) (*silo.Upload, error) {
	var u *silo.Upload
	err := s.w.do(ctx, func(tx *sql.Tx) error {
		r, err := loadUpload(bg, tx, c.Project, c.UploadID)
		if err != nil {
			return err
		}
		if err := r.u.CheckPending(c.Now); err != nil {
			var verr error
			if u, verr = r.view(bg, tx); verr != nil {
				return verr
			}
			return err
		}
		// The parts left out stop counting; the File counts what it keeps.
		d := silo.Usage{Bytes: c.File.Bytes - r.partBytes, Files: 1, PendingUploads: -1}
		if err := take(tx, c.Project, d, c.Quota); err != nil {
			return err
		}
		seq, err := insertFile(tx, c.File)
		if err != nil {
			return err
		}
		if err := dropParts(tx, c.UploadID, seq, c.Now); err != nil {
			return err
		}
		ids := c.PartIDs
		if ids == nil {
			ids = []string{}
		}
		partIDs, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE uploads SET status = ?, part_ids = ?, md5 = ?, file_id = ? WHERE id = ?`,
			string(silo.StatusCompleted), string(partIDs), c.MD5, c.File.ID, c.UploadID); err != nil {
			return err
		}
		r.u.Status, r.u.PartIDs, r.u.MD5 = silo.StatusCompleted, c.PartIDs, c.MD5
		r.fileID = sql.NullString{String: c.File.ID, Valid: true}
		u, err = r.view(bg, tx)
		return err
	})
	return u, err
}

// CancelUpload implements silo.MetaStore.
func (s *MetaStore) CancelUpload(ctx context.Context, project, id string, now time.Time) (*silo.Upload, error) {
	var u *silo.Upload
	err := s.w.do(ctx, func(tx *sql.Tx) error {
		r, err := loadUpload(bg, tx, project, id)
		if err != nil {
			return err
		}
		if err := r.u.CheckPending(now); err != nil {
			var verr error
			if u, verr = r.view(bg, tx); verr != nil {
				return verr
			}
			return err
		}
		if err := endUpload(tx, id, silo.StatusCancelled, now); err != nil {
			return err
		}
		r.u.Status = silo.StatusCancelled
		u = &r.u
		return nil
	})
	return u, err
}

// endUpload sets the status of a pending Upload that ends without a File,
// takes it and its parts off its project's usage, and queues all its parts
// as garbage.
func endUpload(tx *sql.Tx, id string, st silo.UploadStatus, now time.Time) error {
	if _, err := tx.Exec(`
		UPDATE project_usage
		SET bytes = bytes - (SELECT part_bytes FROM uploads WHERE id = ?), pending_uploads = pending_uploads - 1
		WHERE project = (SELECT project FROM uploads WHERE id = ?)`, id, id); err != nil {
		return err
	}
	if err := dropParts(tx, id, 0, now); err != nil {
		return err
	}
	_, err := tx.Exec(`UPDATE uploads SET status = ? WHERE id = ?`, string(st), id)
	return err
}

// ExpireUploads implements silo.MetaStore.
func (s *MetaStore) ExpireUploads(ctx context.Context, now time.Time, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	var done int
	err := s.w.do(ctx, func(tx *sql.Tx) error {
		done = 0
		ids, err := queryStrings(tx, `
			SELECT id FROM uploads
			WHERE status = 'pending' AND expires_at > 0 AND expires_at <= ?
			ORDER BY expires_at LIMIT ?`, now.Unix(), n)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := endUpload(tx, id, silo.StatusExpired, now); err != nil {
				return err
			}
		}
		done = len(ids)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return done, nil
}

// queryStrings returns the first column of the rows of a query.
func queryStrings(tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
