package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"
)

// jsonKeys encodes keys for json_each, so that a list of any length is one
// statement argument.
func jsonKeys(keys []string) (string, error) {
	if keys == nil {
		keys = []string{}
	}
	b, err := json.Marshal(keys)
	return string(b), err
}

// ClaimGarbage implements silo.MetaStore. Oldest garbage goes first.
func (s *MetaStore) ClaimGarbage(ctx context.Context, queuedBefore, now time.Time, lease time.Duration, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	var keys []string
	err := s.w.do(ctx, func(tx *sql.Tx) error {
		var err error
		keys, err = queryStrings(tx, `
			UPDATE garbage SET lease_until = ?
			WHERE key IN (
				SELECT key FROM garbage
				WHERE queued_at < ? AND lease_until <= ?
				ORDER BY queued_at LIMIT ?
			)
			RETURNING key`,
			now.Add(lease).UnixNano(), queuedBefore.UnixNano(), now.UnixNano(), n)
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
	list, err := jsonKeys(keys)
	if err != nil {
		return err
	}
	return s.w.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM garbage WHERE key IN (SELECT value FROM json_each(?))`, list)
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
	list, err := jsonKeys(keys)
	if err != nil {
		return nil, err
	}
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT k.value FROM json_each(?) AS k
			WHERE EXISTS (SELECT 1 FROM parts WHERE blob_key = k.value)
				OR EXISTS (SELECT 1 FROM garbage WHERE key = k.value)
				OR EXISTS (SELECT 1 FROM file_blobs AS b JOIN files AS f ON f.seq = b.file_seq
					WHERE b.key = k.value AND f.deleted = 0)`, list)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return err
			}
			known[k] = true
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return known, nil
}
