package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// ClaimGarbage implements silo.MetaStore. Oldest garbage goes first. Rows
// that another reaper is claiming at this moment are skipped (SKIP LOCKED),
// and rows it claimed carry its lease, so reapers in several instances never
// get the same keys while a lease runs.
func (s *MetaStore) ClaimGarbage(ctx context.Context, queuedBefore, now time.Time, lease time.Duration, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	var keys []string
	err := s.exec(ctx, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, `
			UPDATE garbage SET lease_until = $1
			WHERE key IN (
				SELECT key FROM garbage
				WHERE queued_at < $2 AND lease_until <= $3
				ORDER BY queued_at LIMIT $4
				FOR UPDATE SKIP LOCKED
			)
			RETURNING key`,
			now.Add(lease).UnixNano(), queuedBefore.UnixNano(), now.UnixNano(), n)
		if err != nil {
			return err
		}
		keys, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// ForgetGarbage implements silo.MetaStore.
func (s *MetaStore) ForgetGarbage(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return s.exec(ctx, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, `DELETE FROM garbage WHERE key = ANY($1::text[])`, keys)
		return err
	})
}

// KnownBlobs implements silo.MetaStore. A deleted File's blobs are known as
// garbage until forgotten, not as the File's.
func (s *MetaStore) KnownBlobs(ctx context.Context, keys []string) (map[string]bool, error) {
	known := make(map[string]bool)
	if len(keys) == 0 {
		return known, nil
	}
	err := s.read(ctx, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, `
			SELECT k FROM unnest($1::text[]) AS k
			WHERE EXISTS (SELECT 1 FROM parts WHERE blob_key = k)
				OR EXISTS (SELECT 1 FROM garbage WHERE key = k)
				OR EXISTS (SELECT 1 FROM file_blobs AS b JOIN files AS f ON f.seq = b.file_seq
					WHERE b.key = k AND NOT f.deleted)`, keys)
		if err != nil {
			return err
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, k := range found {
			known[k] = true
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return known, nil
}
