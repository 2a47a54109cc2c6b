package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/postgres"
)

// BenchmarkListFiles pages through a project of 100,000 files, a tenth of
// them deleted and as many of another project mixed in: a page of 100 must
// cost a range scan of an index, whatever the size of the table.
func BenchmarkListFiles(b *testing.B) {
	url := freshSchema(b)
	s := open(b, url, postgres.Options{})
	defer s.Close()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	// Rows made in bulk: the store's own inserts would take minutes.
	if _, err := conn.Exec(ctx, `
		INSERT INTO files (id, project, bytes, created_at, filename, purpose, expires_at, deleted)
		SELECT 'file-' || i, CASE WHEN i % 2 = 0 THEN 'proj' ELSE 'other' END, 10, 1700000000,
			'f.jsonl', CASE WHEN i % 3 = 0 THEN 'batch' ELSE 'user_data' END, 0, i % 10 = 0
		FROM generate_series(1, 200000) AS i;
		INSERT INTO file_blobs (file_seq, idx, key, size) SELECT seq, 0, 'files/' || id, 10 FROM files;
		ANALYZE`); err != nil {
		b.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	for _, bc := range []struct {
		name string
		q    silo.FileQuery
	}{
		{"FirstPage", silo.FileQuery{Limit: 100, Order: "desc"}},
		{"MiddlePage", silo.FileQuery{Limit: 100, Order: "asc", After: "file-100000"}},
		{"Purpose", silo.FileQuery{Limit: 100, Order: "desc", Purpose: "batch", After: "file-150000"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				list, err := s.ListFiles(ctx, "proj", bc.q, now)
				if err != nil || len(list.Files) != 100 {
					b.Fatalf("ListFiles: %d files, %v", len(list.Files), err)
				}
			}
		})
	}
}
