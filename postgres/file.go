package postgres

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/silo-dev/silo"
)

// listCols are the columns of a file itself, which scanListed reads in order.
const listCols = `seq, id, project, bytes, created_at, filename, purpose, expires_at`

// fileCols are the columns scanFile reads, in its order: listCols, then the
// file's blobs' keys and sizes as two arrays in blob order, so that a file
// and its blobs are one row of one query.
const fileCols = listCols + `,
	ARRAY(SELECT key FROM file_blobs WHERE file_seq = files.seq ORDER BY idx),
	ARRAY(SELECT size FROM file_blobs WHERE file_seq = files.seq ORDER BY idx)`

// scanFile reads the fileCols of one row.
func scanFile(row pgx.Row) (int64, *silo.File, error) {
	var seq int64
	var f silo.File
	var keys []string
	var sizes []int64
	if err := row.Scan(&seq, &f.ID, &f.Project, &f.Bytes, &f.CreatedAt, &f.Filename, &f.Purpose, &f.ExpiresAt, &keys, &sizes); err != nil {
		return 0, nil, err
	}
	for i, k := range keys {
		f.Blobs = append(f.Blobs, silo.BlobRef{Key: k, Size: sizes[i]})
	}
	return seq, &f, nil
}

// scanListed reads the listCols of one row: a File without its Blobs.
func scanListed(row pgx.Row) (*silo.File, error) {
	var seq int64
	var f silo.File
	if err := row.Scan(&seq, &f.ID, &f.Project, &f.Bytes, &f.CreatedAt, &f.Filename, &f.Purpose, &f.ExpiresAt); err != nil {
		return nil, err
	}
	return &f, nil
}

// liveFile is the condition of a file of the project (arguments project, id,
// now in Unix seconds) that is neither deleted nor expired.
const liveFile = `project = $1 AND id = $2 AND NOT deleted AND (expires_at = 0 OR expires_at > $3)`

// loadFile returns the one file matching where, with its blobs;
// pgx.ErrNoRows if there is none.
func loadFile(ctx context.Context, q querier, where string, args ...any) (int64, *silo.File, error) {
	return scanFile(q.QueryRow(ctx, `SELECT `+fileCols+` FROM files WHERE `+where, args...))
}

// filesLock is the first key of the advisory locks that order file inserts,
// one per project ("silo" in ASCII).
const filesLock int32 = 0x73696c6f

// insertFile inserts f after every file so far and returns its seq. It first
// takes the project's advisory lock, held until the transaction ends: the
// seq is drawn and committed while no other insert of the project is under
// way, so a list never shows a file before an earlier one of its project has
// committed, and a cursor never skips one.
func insertFile(ctx context.Context, tx pgx.Tx, f *silo.File) (int64, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int4, hashtext($2::text))`, filesLock, f.Project); err != nil {
		return 0, err
	}
	var seq int64
	if err := tx.QueryRow(ctx, `
		INSERT INTO files (id, project, bytes, created_at, filename, purpose, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq`,
		f.ID, f.Project, f.Bytes, f.CreatedAt, f.Filename, f.Purpose, f.ExpiresAt).Scan(&seq); err != nil {
		return 0, err
	}
	if len(f.Blobs) == 0 {
		return seq, nil
	}
	keys, sizes := make([]string, len(f.Blobs)), make([]int64, len(f.Blobs))
	for i, b := range f.Blobs {
		keys[i], sizes[i] = b.Key, b.Size
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO file_blobs (file_seq, idx, key, size)
		SELECT $1::bigint, t.i - 1, t.k, t.s FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS t (k, s, i)`,
		seq, keys, sizes)
	return seq, err
}

// deleteFiles makes tombstones of the files that where selects (with args
// from $2 on), queueing their blobs as garbage queued at $1, and takes them
// off their projects' usage, in the caller's transaction. It returns how many
// files it deleted.
func deleteFiles(ctx context.Context, tx pgx.Tx, where string, args ...any) (int, error) {
	rows, err := tx.Query(ctx, `
		WITH f AS (
			UPDATE files SET deleted = true WHERE `+where+` RETURNING seq, project, bytes
		), g AS (
			INSERT INTO garbage (key, queued_at)
			SELECT b.key, $1::bigint FROM file_blobs AS b JOIN f ON b.file_seq = f.seq
			ON CONFLICT (key) DO NOTHING
		)
		SELECT project, sum(bytes)::bigint, count(*) FROM f GROUP BY project`, args...)
	if err != nil {
		return 0, err
	}
	changes := make(map[string]silo.Usage)
	var project string
	var bytes, n int64
	var done int
	if _, err := pgx.ForEachRow(rows, []any{&project, &bytes, &n}, func() error {
		changes[project] = silo.Usage{Bytes: -bytes, Files: -n}
		done += int(n)
		return nil
	}); err != nil {
		return 0, err
	}
	return done, release(ctx, tx, changes)
}

// fileNotFound is the error for a file id that is not a live file.
func fileNotFound(id string) error {
	return silo.Errorf(silo.ENOTFOUND, "file_id", "No file found with id %q.", id)
}

// CreateFile implements silo.MetaStore.
func (s *MetaStore) CreateFile(ctx context.Context, f *silo.File, q silo.Quota) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := insertFile(ctx, tx, f); err != nil {
			return err
		}
		return take(ctx, tx, f.Project, silo.Usage{Bytes: f.Bytes, Files: 1}, q)
	})
}

// GetFile implements silo.MetaStore.
func (s *MetaStore) GetFile(ctx context.Context, project, id string, now time.Time) (*silo.File, error) {
	var f *silo.File
	err := s.read(ctx, func(ctx context.Context) (err error) {
		_, f, err = loadFile(ctx, s.pool, liveFile, project, id, now.Unix())
		if errors.Is(err, pgx.ErrNoRows) {
			return fileNotFound(id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// DeleteFile implements silo.MetaStore. Of two deletes racing, the second
// waits for the first's row lock and then finds the file deleted.
func (s *MetaStore) DeleteFile(ctx context.Context, project, id string, now time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		n, err := deleteFiles(ctx, tx, `project = $2 AND id = $3 AND NOT deleted AND (expires_at = 0 OR expires_at > $4)`,
			now.UnixNano(), project, id, now.Unix())
		if err == nil && n == 0 {
			return fileNotFound(id)
		}
		return err
	})
}

// ExpireFiles implements silo.MetaStore. Files another transaction holds
// are skipped, so reapers in several instances share the work.
func (s *MetaStore) ExpireFiles(ctx context.Context, now time.Time, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	var done int
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) (err error) {
		done, err = deleteFiles(ctx, tx, `seq IN (
				SELECT seq FROM files
				WHERE NOT deleted AND expires_at > 0 AND expires_at <= $2
				ORDER BY expires_at LIMIT $3
				FOR UPDATE SKIP LOCKED)`,
			now.UnixNano(), now.Unix(), n)
		return err
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
	list := &silo.FileList{Files: []*silo.File{}}
	err := s.read(ctx, func(ctx context.Context) error {
		if q.After != "" {
			err := s.pool.QueryRow(ctx, `SELECT seq FROM files WHERE id = $1 AND project = $2`, q.After, project).Scan(&cursor)
			if errors.Is(err, pgx.ErrNoRows) {
				return silo.Errorf(silo.EINVALID, "after",
					"Invalid value for 'after': %q is not a file of this project. Expected the id of the last file of the previous page.", q.After)
			}
			if err != nil {
				return err
			}
		}
		// Two statements, so that each has a plan of its own index.
		where := `project = $1 AND $2::text = ''`
		if q.Purpose != "" {
			where = `project = $1 AND purpose = $2`
		}
		rows, err := s.pool.Query(ctx, `
			SELECT `+listCols+` FROM files
			WHERE `+where+` AND NOT deleted AND seq `+cmp+` $3 AND (expires_at = 0 OR expires_at > $4)
			ORDER BY seq `+order+` LIMIT $5`,
			project, q.Purpose, cursor, now.Unix(), limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			f, err := scanListed(rows)
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
