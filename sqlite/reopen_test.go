package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/sqlite"
)

var t0 = time.Unix(1_700_000_000, 0)

// must fails the test on err.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestReopen checks that everything acknowledged is there after closing and
// opening the database again, and that file order carries on.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "silo.db")
	s, err := sqlite.Open(path, sqlite.Options{})
	must(t, "Open", err)

	up := &silo.Upload{ID: "upload_a", Project: "p", Bytes: 3, Filename: "a", Purpose: "batch",
		MimeType: "text/plain", CreatedAt: t0.Unix(), ExpiresAt: t0.Unix() + 3600, Status: silo.StatusPending}
	must(t, "CreateUpload", s.CreateUpload(ctx, up, silo.Quota{}))
	part := &silo.Part{ID: "part_a", UploadID: up.ID, Project: "p", Size: 3, CreatedAt: t0.Unix(), Started: 1, BlobKey: "parts/a"}
	must(t, "AddPart", s.AddPart(ctx, part, t0, silo.PartLimits{Bytes: 100, Count: silo.MaxUploadParts}, silo.Quota{}))
	pending := *up
	pending.ID = "upload_b"
	must(t, "CreateUpload", s.CreateUpload(ctx, &pending, silo.Quota{}))
	must(t, "AddPart", s.AddPart(ctx, &silo.Part{ID: "part_b", UploadID: "upload_b", Project: "p", Size: 1, Started: 1, BlobKey: "parts/b"}, t0, silo.PartLimits{Bytes: 100, Count: silo.MaxUploadParts}, silo.Quota{}))
	file := &silo.File{ID: "file-c", Project: "p", Bytes: 3, CreatedAt: t0.Unix(), Filename: "a", Purpose: "batch",
		Blobs: []silo.BlobRef{{Key: "parts/a", Size: 3}}}
	done, err := s.CompleteUpload(ctx, &silo.Completion{Project: "p", UploadID: up.ID, PartIDs: []string{"part_a"}, File: file, Now: t0})
	must(t, "CompleteUpload", err)
	gone := &silo.File{ID: "file-d", Project: "p", CreatedAt: t0.Unix(), Filename: "d", Purpose: "batch", Blobs: []silo.BlobRef{{Key: "files/d", Size: 0}}}
	must(t, "CreateFile", s.CreateFile(ctx, gone, silo.Quota{}))
	must(t, "DeleteFile", s.DeleteFile(ctx, "p", gone.ID, t0))
	must(t, "Close", s.Close())

	s, err = sqlite.Open(path, sqlite.Options{})
	must(t, "Open again", err)
	defer s.Close()
	got, err := s.GetUpload(ctx, "p", up.ID)
	must(t, "GetUpload", err)
	if got.Status != silo.StatusCompleted || got.File == nil || got.File.ID != done.File.ID ||
		len(got.File.Blobs) != 1 || got.File.Blobs[0].Key != "parts/a" || len(got.PartIDs) != 1 {
		t.Errorf("GetUpload after reopening: got %+v, want %+v", got, done)
	}
	parts, err := s.ListParts(ctx, "p", "upload_b")
	must(t, "ListParts", err)
	if len(parts) != 1 || parts[0].ID != "part_b" {
		t.Errorf("ListParts after reopening: got %d parts, want part_b", len(parts))
	}
	known, err := s.KnownBlobs(ctx, []string{"parts/a", "parts/b", "files/d"})
	must(t, "KnownBlobs", err)
	if len(known) != 3 {
		t.Errorf("KnownBlobs after reopening: got %v, want all three", known)
	}
	keys, err := s.ClaimGarbage(ctx, t0.Add(time.Hour), t0, time.Minute, 10)
	must(t, "ClaimGarbage", err)
	if len(keys) != 1 || keys[0] != "files/d" {
		t.Errorf("ClaimGarbage after reopening: got %v, want [files/d]", keys)
	}

	// A file created now comes after the old ones, the deleted one included.
	later := &silo.File{ID: "file-e", Project: "p", CreatedAt: t0.Unix(), Filename: "e", Purpose: "batch"}
	must(t, "CreateFile", s.CreateFile(ctx, later, silo.Quota{}))
	list, err := s.ListFiles(ctx, "p", silo.FileQuery{Limit: 10, Order: "asc", After: gone.ID}, t0)
	must(t, "ListFiles", err)
	if len(list.Files) != 1 || list.Files[0].ID != later.ID || list.HasMore {
		t.Errorf("ListFiles after the deleted file: got %d files, has_more %v; want just %s", len(list.Files), list.HasMore, later.ID)
	}
}

// TestOpen_SchemaVersion checks that Open records the schema version and
// refuses a database written by a newer program.
func TestOpen_SchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "silo.db")
	s, err := sqlite.Open(path, sqlite.Options{})
	must(t, "Open", err)
	must(t, "Close", s.Close())
	s, err = sqlite.Open(path, sqlite.Options{})
	must(t, "Open again", err)
	must(t, "Close", s.Close())

	db, err := sql.Open("sqlite3", path)
	must(t, "sql.Open", err)
	defer db.Close()
	var v int
	must(t, "SELECT version", db.QueryRow(`SELECT version FROM schema_version`).Scan(&v))
	if v != 3 {
		t.Errorf("schema version: got %d, want 3", v)
	}
	_, err = db.Exec(`UPDATE schema_version SET version = 99`)
	must(t, "UPDATE schema_version", err)
	if s, err := sqlite.Open(path, sqlite.Options{}); err == nil {
		s.Close()
		t.Errorf("Open of a database at schema version 99: got no error")
	}
}

// TestClose checks that a closed store refuses writes rather than hanging.
func TestClose(t *testing.T) {
	s := open(t, sqlite.Options{})
	must(t, "Close", s.Close())
	err := s.CreateFile(context.Background(), &silo.File{ID: "file-a", Project: "p"}, silo.Quota{})
	if err == nil {
		t.Errorf("CreateFile after Close: got no error")
	}
	must(t, "Close again", s.Close())
}
