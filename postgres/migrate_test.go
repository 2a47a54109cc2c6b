package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/postgres"
)

// TestMigrate_Usage checks that migration 0003 counts what each project held
// under schema 2: its live files, and its pending uploads with their parts,
// but not deleted files nor uploads that left pending.
func TestMigrate_Usage(t *testing.T) {
	ctx := context.Background()
	url := freshSchema(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	for _, name := range []string{"migrations/0001_init.sql", "migrations/0002_part_count.sql"} {
		schema, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, string(schema)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := conn.Exec(ctx, `
		CREATE TABLE silo_schema_version (version INTEGER NOT NULL);
		INSERT INTO silo_schema_version (version) VALUES (2);
		INSERT INTO files (id, project, bytes, created_at, filename, purpose, expires_at, deleted) VALUES
			('file-a', 'p', 10, 1, 'a', 'batch', 0, false),
			('file-b', 'p', 20, 1, 'b', 'batch', 0, false),
			('file-c', 'p', 40, 1, 'c', 'batch', 0, true),
			('file-d', 'q', 80, 1, 'd', 'batch', 0, false);
		INSERT INTO uploads (id, project, bytes, filename, purpose, mime_type, created_at, expires_at, status, file_expires_after, part_bytes, part_count) VALUES
			('upload_a', 'p', 3, 'a', 'batch', 'text/plain', 1, 9999999999, 'pending', 0, 3, 2),
			('upload_b', 'p', 3, 'b', 'batch', 'text/plain', 1, 9999999999, 'cancelled', 0, 3, 0),
			('upload_c', 'r', 0, 'c', 'batch', 'text/plain', 1, 9999999999, 'pending', 0, 0, 0);`); err != nil {
		t.Fatalf("schema 2 data: %v", err)
	}

	s, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	for _, tc := range []struct {
		project string
		want    silo.Usage
	}{
		{"p", silo.Usage{Bytes: 33, Files: 2, PendingUploads: 1}},
		{"q", silo.Usage{Bytes: 80, Files: 1}},
		{"r", silo.Usage{PendingUploads: 1}},
		{"nobody", silo.Usage{}},
		{"", silo.Usage{Bytes: 113, Files: 3, PendingUploads: 2}},
	} {
		got, err := s.Usage(ctx, tc.project)
		if err != nil {
			t.Fatalf("Usage: %v", err)
		}
		if got != tc.want {
			t.Errorf("Usage(%q) after migration: got %+v, want %+v", tc.project, got, tc.want)
		}
	}
}
