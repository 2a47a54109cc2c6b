package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silo-dev/silo"
)

// TestMetaStore_Full checks that a write the database has no room for fails
// with ESTORAGEFULL, which the HTTP layer answers with 507, and that the
// store takes writes again once there is room. A page limit on the write
// connection stands in for a full disk: SQLite reports both as SQLITE_FULL,
// and the driver's file layer turns ENOSPC into that code.
func TestMetaStore_Full(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "silo.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	setMaxPages := func(extra int) {
		t.Helper()
		err := s.w.do(ctx, func(tx *sql.Tx) error {
			var pages int
			if err := tx.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
				return err
			}
			_, err := tx.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+extra))
			return err
		})
		if err != nil {
			t.Fatalf("max_page_count: %v", err)
		}
	}
	file := func(i int) *silo.File {
		return &silo.File{ID: fmt.Sprintf("file-%d", i), Project: "p", CreatedAt: 1, Purpose: "batch",
			Filename: strings.Repeat("f", 200), Blobs: []silo.BlobRef{{Key: fmt.Sprintf("files/%d", i), Size: 1}}}
	}

	setMaxPages(0)
	const n = 1000 // far more than fit in the pages already there
	var full error
	for i := range n {
		if full = s.CreateFile(ctx, file(i), silo.Quota{}); full != nil {
			break
		}
	}
	if got := silo.ErrorCode(full); got != silo.ESTORAGEFULL {
		t.Fatalf("CreateFile into a full database: got %v, want %s", full, silo.ESTORAGEFULL)
	}

	setMaxPages(1000)
	if err := s.CreateFile(ctx, file(n), silo.Quota{}); err != nil {
		t.Errorf("CreateFile once there is room again: %v", err)
	}
}
