package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"time"

	"github.com/silo-dev/silo"
)

// fileCols are the columns scanFile reads, in its order.
const fileCols = `seq, id, project, bytes, created_at, filename, purpose, expires_at`

// scanFile reads the fileCols of one row, followed by dest.
func scanFile(row interface{ Scan(...any) error }, dest ...any) (int64, *silo.File, error) {
	var seq int64
	var f silo.File
	err := row.Scan(append([]any{&seq, &f.ID, &f.Project, &f.Bytes, &f.CreatedAt, &f.Filename, &f.Purpose, &f.ExpiresAt}, dest...)...)
	return seq, &f, err
}

// liveFile is the condition of a file of the project (arguments project, id,
// now in Unix seconds) that is neither deleted nor expired.
const liveFile = `project = ? AND id = ? AND deleted = 0 AND (expires_at = 0 OR expires_at > ?)`

// loadFile returns the one file matching where, with its blobs; sql.ErrNoRows
// if there is none.
func loadFile(ctx context.Context, tx *sql.Tx, where string, args ...any) (int64, *silo.File, error) {
	seq, f, err := scanFile(tx.QueryRowContext(ctx, `SELECT `+fileCols+` FROM files WHERE `+where, args...))
	if err != nil {
		return 0, nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT key, size FROM file_blobs WHERE file_seq = ? ORDER BY idx`, seq)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var b silo.BlobRef
		if err := rows.Scan(&b.Key, &b.Size); err != nil {
			return 0, nil, err
		}
		f.Blobs = append(f.Blobs, b)
	}
	return seq, f, rows.Err()
}

// insertFile inserts f after every file so far and returns its seq.
func insertFile(tx *sql.Tx, f *silo.File) (int64, error) {
	res, err := tx.Exec(`
		INSERT INTO files (id, project, bytes, created_at, filename, purpose, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.Project, f.Bytes, f.CreatedAt, f.Filename, f.Purpose, f.ExpiresAt)
	if err != nil {
		return 0, err
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	for i, b := range f.Blobs {
		if _, err := tx.Exec(`INSERT INTO file_blobs (file_seq, idx, key, size) VALUES (?, ?, ?, ?)`,
			seq, i, b.Key, b.Size); err != nil {
			return 0, err
		}
	}
	return seq, nil
}

// deleteFile makes the file a tombstone, takes it off its project's usage and
// queues its blobs as garbage.
func deleteFile(tx *sql.Tx, seq int64, now time.Time) error {
	if _, err := tx.Exec(`
		UPDATE project_usage
		SET bytes = bytes - (SELECT bytes FROM files WHERE seq = ?), files = files - 1
		WHERE project = (SELECT project FROM files WHERE seq = ?)`, seq, seq); err != nil {
		return err
	}
	if _, err := tx.Exec(`UPDATE files SET deleted = 1 WHERE seq = ?`, seq); err != nil {
		return err
	}
	_, err := tx.Exec(`
		INSERT INTO garbage (key, queued_at)
		SELECT key, ? FROM file_blobs WHERE file_seq = ?
		ON CONFLICT (key) DO NOTHING`, now.UnixNano(), seq)
	return err
}

// fileNotFound is the error for a file id that is not a live file.
func fileNotFound(id string) error {
	return silo.Errorf(silo.ENOTFOUND, "file_id", "No file found with id %q.", id)
}

// CreateFile implements silo.MetaStore.
func (s *MetaStore) CreateFile(ctx context.Context, f *silo.File, q silo.Quota) error {
	return s.w.do(ctx, func(tx *sql.Tx) error {
		if err := take(tx, f.Project, silo.Usage{Bytes: f.Bytes, Files: 1}, q); err != nil {
			return err
		}
		_, err := insertFile(tx, f)
		return err
	})
}

// GetFile implements silo.MetaStore.
func (s *MetaStore) GetFile(ctx context.Context, project, id string, now time.Time) (*silo.File, error) {
	var f *silo.File
	err := s.readTx(ctx, func(tx *sql.Tx) (err error) {
		_, f, err = loadFile(ctx, tx, liveFile, project, id, now.Unix())
		if errors.Is(err, sql.ErrNoRows) {
			return fileNotFound(id)
		}
		return err
	})
	return f, err
}

// DeleteFile implements silo.MetaStore.
func (s *MetaStore) DeleteFile(ctx context.Context, project, id string, now time.Time) error {
	return s.w.do(ctx, func(tx *sql.Tx) error {
		var seq int64
		err := tx.QueryRow(`SELECT seq FROM files WHERE `+liveFile, project, id, now.Unix()).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return fileNotFound(id)
		}
		if err != nil {
			return err
		}
		return deleteFile(tx, seq, now)
	})
}

// ExpireFiles implements silo.MetaStore.
func (s *MetaStore) ExpireFiles(ctx context.Context, now time.Time, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	var done int
	err := s.w.do(ctx, func(tx *sql.Tx) error {
		rows, err := tx.Query(`
			SELECT seq FROM files
			WHERE deleted = 0 AND expires_at > 0 AND expires_at <= ?
			ORDER BY expires_at LIMIT ?`, now.Unix(), n)
		if err != nil {
			return err
		}
		var seqs []int64
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return err
			}
			seqs = append(seqs, seq)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, seq := range seqs {
			if err := deleteFile(tx, seq, now); err != nil {
				return err
			}
		}
		done = len(seqs)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return done, nil
}

// ListFiles implements silo.MetaStore. The page is one range scan of the
// index (project, seq) or (project, purpose, seq), which holds live files
// only, from the cursor's seq; the cursor is looked up by id whatever became
// of its file. Listed Files carry no Blobs: a page of files with many parts
// each would otherwise read them all.
func (s *MetaStore) ListFiles(ctx context.Context, project string, q silo.FileQuery, now time.Time) (*silo.FileList, error) {
	limit := q.Limit
	if limit <= 0 || limit > silo.MaxListLimit {
		limit = silo.MaxListLimit
	}
	cmp, order, cursor := ">", "ASC", int64(0)
	if q.Order != "asc" {
		cmp, order, cursor = "<", "DESC", math.MaxInt64
	}
	where, args := `project = ?`, []any{project}
	if q.Purpose != "" {
		where, args = where+` AND purpose = ?`, append(args, q.Purpose)
	}
	list := &silo.FileList{Files: []*silo.File{}}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if q.After != "" {
			err := tx.QueryRowContext(ctx, `SELECT seq FROM files WHERE id = ? AND project = ?`, q.After, project).Scan(&cursor)
			if errors.Is(err, sql.ErrNoRows) {
				return silo.Errorf(silo.EINVALID, "after",
					"Invalid value for 'after': %q is not a file of this project. Expected the id of the last file of the previous page.", q.After)
			}
			if err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT `+fileCols+` FROM files
			WHERE `+where+` AND deleted = 0 AND seq `+cmp+` ? AND (expires_at = 0 OR expires_at > ?)
			ORDER BY seq `+order+` LIMIT ?`,
			append(args, cursor, now.Unix(), limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			_, f, err := scanFile(rows)
			if err != nil {
				return err
			}
			list.Files = append(list.Files, f)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if len(list.Files) > limit {
		list.Files, list.HasMore = list.Files[:limit], true
	}
	return list, nil
}
