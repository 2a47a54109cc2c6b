package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/sqlite"
)

// TestMigrate_PartCount checks that migration 0002 counts the parts an
// upload recorded under schema 1, so that the count limit holds for them.
func TestMigrate_PartCount(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "silo.db")
	schema1, err := os.ReadFile("migrations/0001_init.sql")
	must(t, "ReadFile", err)
	db, err := sql.Open("sqlite3", path)
	must(t, "sql.Open", err)
	_, err = db.Exec(string(schema1))
	must(t, "0001_init.sql", err)
	_, err = db.Exec(`
		CREATE TABLE schema_version (version INTEGER NOT NULL);
		INSERT INTO schema_version (version) VALUES (1);`)
	must(t, "schema_version 1", err)
	// One statement per Exec with arguments: the driver binds them to one.
	_, err = db.Exec(`
		INSERT INTO uploads (id, project, bytes, filename, purpose, mime_type, created_at, expires_at, status, file_expires_after, part_bytes)
		VALUES ('upload_a', 'p', 3, 'a', 'batch', 'text/plain', ?, ?, 'pending', 0, 3)`,
		t0.Unix(), t0.Unix()+3600)
	must(t, "schema 1 upload", err)
	_, err = db.Exec(`
		INSERT INTO parts (id, upload_id, project, size, created_at, started, blob_key) VALUES
			('part_a', 'upload_a', 'p', 1, ?, 1, 'parts/a'),
			('part_b', 'upload_a', 'p', 2, ?, 2, 'parts/b')`,
		t0.Unix(), t0.Unix())
	must(t, "schema 1 parts", err)
	must(t, "Close", db.Close())

	s, err := sqlite.Open(path, sqlite.Options{})
	must(t, "Open", err)
	defer s.Close()
	max := silo.PartLimits{Bytes: silo.MaxUploadBytes, Count: 3}
	part := func(id string) *silo.Part {
		return &silo.Part{ID: id, UploadID: "upload_a", Project: "p", Size: 1, CreatedAt: t0.Unix(), Started: 3, BlobKey: "parts/" + id}
	}
	must(t, "AddPart, third of 3", s.AddPart(ctx, part("part_c"), t0, max, silo.Quota{}))
	if err := s.AddPart(ctx, part("part_d"), t0, max, silo.Quota{}); silo.ErrorCode(err) != silo.EUPLOADTOOLARGE {
		t.Errorf("AddPart, fourth of 3: got %v, want %s: the parts of schema 1 were not counted", err, silo.EUPLOADTOOLARGE)
	}
}

// TestMigrate_Usage checks that migration 0003 counts what each project held
// under schema 2: its live files, and its pending uploads with their parts,
// but not deleted files nor uploads that left pending.
func TestMigrate_Usage(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "silo.db")
	db, err := sql.Open("sqlite3", path)
	must(t, "sql.Open", err)
	for _, name := range []string{"migrations/0001_init.sql", "migrations/0002_part_count.sql"} {
		schema, err := os.ReadFile(name)
		must(t, "ReadFile", err)
		_, err = db.Exec(string(schema))
		must(t, name, err)
	}
	_, err = db.Exec(`
		CREATE TABLE schema_version (version INTEGER NOT NULL);
		INSERT INTO schema_version (version) VALUES (2);
		INSERT INTO files (id, project, bytes, created_at, filename, purpose, expires_at, deleted) VALUES
			('file-a', 'p', 10, 1, 'a', 'batch', 0, 0),
			('file-b', 'p', 20, 1, 'b', 'batch', 0, 0),
			('file-c', 'p', 40, 1, 'c', 'batch', 0, 1),
			('file-d', 'q', 80, 1, 'd', 'batch', 0, 0);
		INSERT INTO uploads (id, project, bytes, filename, purpose, mime_type, created_at, expires_at, status, file_expires_after, part_bytes, part_count) VALUES
			('upload_a', 'p', 3, 'a', 'batch', 'text/plain', 1, 9999999999, 'pending', 0, 3, 2),
			('upload_b', 'p', 3, 'b', 'batch', 'text/plain', 1, 9999999999, 'cancelled', 0, 3, 0),
			('upload_c', 'r', 0, 'c', 'batch', 'text/plain', 1, 9999999999, 'pending', 0, 0, 0);`)
	must(t, "schema 2 data", err)
	must(t, "Close", db.Close())

	s, err := sqlite.Open(path, sqlite.Options{})
	must(t, "Open", err)
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
		must(t, "Usage", err)
		if got != tc.want {
			t.Errorf("Usage(%q) after migration: got %+v, want %+v", tc.project, got, tc.want)
		}
	}
}
