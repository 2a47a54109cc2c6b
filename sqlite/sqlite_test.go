package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/sqlite"
	"github.com/silo-dev/silo/storetest"
)

// open opens a fresh database in the test's temporary directory.
func open(t testing.TB, opts sqlite.Options) *sqlite.MetaStore {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "silo.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestMetaStore(t *testing.T) {
	storetest.MetaStore(t, func(t *testing.T) silo.MetaStore { return open(t, sqlite.Options{}) })
}

// TestMetaStore_NoGroupCommit runs the suite with every write in its own
// transaction, the path a lone writer takes.
func TestMetaStore_NoGroupCommit(t *testing.T) {
	storetest.MetaStore(t, func(t *testing.T) silo.MetaStore { return open(t, sqlite.Options{MaxBatch: 1}) })
}
