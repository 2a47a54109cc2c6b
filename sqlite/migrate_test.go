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
	must(t, "AddPart, third of 3", s.AddPart(ctx, part("part_c"), t0, max))
	if err := s.AddPart(ctx, part("part_d"), t0, max); silo.ErrorCode(err) != silo.EUPLOADTOOLARGE {
		t.Errorf("AddPart, fourth of 3: got %v, want %s: the parts of schema 1 were not counted", err, silo.EUPLOADTOOLARGE)
	}
}
