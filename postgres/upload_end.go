package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/silo-dev/silo"
)

// dropParts forgets the parts of the Uploads, queueing as garbage the blobs
// that are not among keep (the blobs of the File the Upload became).
func dropParts(ctx context.Context, tx pgx.Tx, uploadIDs []string, keep []string, now time.Time) error {
	if keep == nil {
		keep = []string{}
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO garbage (key, queued_at)
		SELECT blob_key, $2::bigint FROM parts
		WHERE upload_id = ANY($1::text[]) AND blob_key <> ALL($3::text[])
		ON CONFLICT (key) DO NOTHING`, uploadIDs, now.UnixNano(), keep); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM parts WHERE upload_id = ANY($1)`, uploadIDs)
	return err
}

// CompleteUpload implements silo.MetaStore. The Upload's row is locked for
// the whole transaction, so of several completions, cancellations and parts
// racing through any number of instances, the first to lock it decides, and
// the others see the Upload as it left.
func (s *MetaStore) CompleteUpload(ctx context.Context, c *silo.Completion) (*silo.Upload, error) {
	var u, done *silo.Upload
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		r, err := loadUpload(ctx, tx, c.Project, c.UploadID, true)
		if err != nil {
			return err
		}
		if err := r.u.CheckPending(c.Now); err != nil {
			var verr error
			if u, verr = r.view(ctx, tx); verr != nil {
				return verr
			}
			return err
		}
		keep := make([]string, len(c.File.Blobs))
		for i, b := range c.File.Blobs {
			keep[i] = b.Key
		}
		if err := dropParts(ctx, tx, []string{c.UploadID}, keep, c.Now); err != nil {
			return err
		}
		if _, err := insertFile(ctx, tx, c.File); err != nil {
			return err
		}
		// The parts left out stop counting; the File counts what it keeps.
		d := silo.Usage{Bytes: c.File.Bytes - r.partBytes, Files: 1, PendingUploads: -1}
		if err := take(ctx, tx, c.Project, d, c.Quota); err != nil {
			return err
		}
		ids := c.PartIDs
		if ids == nil {
			ids = []string{}
		}
		if _, err := tx.Exec(ctx, `UPDATE uploads SET status = $1, part_ids = $2, md5 = $3, file_id = $4 WHERE id = $5`,
			string(silo.StatusCompleted), ids, c.MD5, c.File.ID, c.UploadID); err != nil {
			return err
		}
		r.u.Status, r.u.PartIDs, r.u.MD5 = silo.StatusCompleted, c.PartIDs, c.MD5
		f := *c.File
		f.Blobs = append([]silo.BlobRef(nil), c.File.Blobs...)
		r.u.File = &f
		done = &r.u
		return nil
	})
	return outcome(done, u, err)
}

// outcome is what a completion or cancellation returns: the Upload it made
// once its transaction committed, or the Upload as stored with the
// NotPendingError that stopped it, or just the error.
func outcome(done, stored *silo.Upload, err error) (*silo.Upload, error) {
	switch silo.ErrorCode(err) {
	case "":
		return done, nil
	case silo.EUPLOADCOMPLETED, silo.EUPLOADCANCELLED, silo.EUPLOADEXPIRED:
		return stored, err
	}
	return nil, err
}

// CancelUpload implements silo.MetaStore, locking the Upload's row as
// CompleteUpload does.
func (s *MetaStore) CancelUpload(ctx context.Context, project, id string, now time.Time) (*silo.Upload, error) {
	var u, done *silo.Upload
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		r, err := loadUpload(ctx, tx, project, id, true)
		if err != nil {
			return err
		}
		if err := r.u.CheckPending(now); err != nil {
			var verr error
			if u, verr = r.view(ctx, tx); verr != nil {
				return verr
			}
			return err
		}
		if err := endUploads(ctx, tx, []string{id}, silo.StatusCancelled, now); err != nil {
			return err
		}
		r.u.Status = silo.StatusCancelled
		done = &r.u
		return nil
	})
	return outcome(done, u, err)
}

// endUploads sets the status of pending Uploads that end without a File,
// takes them and their parts off their projects' usage, and queues all their
// parts as garbage.
func endUploads(ctx context.Context, tx pgx.Tx, ids []string, st silo.UploadStatus, now time.Time) error {
	rows, err := tx.Query(ctx, `
		SELECT project, sum(part_bytes)::bigint, count(*) FROM uploads WHERE id = ANY($1) GROUP BY project`, ids)
	if err != nil {
		return err
	}
	changes := make(map[string]silo.Usage)
	var project string
	var bytes, n int64
	if _, err := pgx.ForEachRow(rows, []any{&project, &bytes, &n}, func() error {
		changes[project] = silo.Usage{Bytes: -bytes, PendingUploads: -n}
		return nil
	}); err != nil {
		return err
	}
	if err := release(ctx, tx, changes); err != nil {
		return err
	}
	if err := dropParts(ctx, tx, ids, nil, now); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE uploads SET status = $1 WHERE id = ANY($2)`, string(st), ids)
	return err
}

// ExpireUploads implements silo.MetaStore. Rows another transaction holds
// (a part being added, or another instance's reaper at work) are skipped,
// not waited for: the next round takes them if they are still due.
func (s *MetaStore) ExpireUploads(ctx context.Context, now time.Time, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	var done int
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT id FROM uploads
			WHERE status = 'pending' AND expires_at > 0 AND expires_at <= $1
			ORDER BY expires_at LIMIT $2
			FOR UPDATE SKIP LOCKED`, now.Unix(), n)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(ids) == 0 {
			return err
		}
		done = len(ids)
		return endUploads(ctx, tx, ids, silo.StatusExpired, now)
	})
	if err != nil {
		return 0, err
	}
	return done, nil
}
