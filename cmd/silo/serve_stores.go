package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/disk"
	"github.com/silo-dev/silo/postgres"
	"github.com/silo-dev/silo/s3"
	"github.com/silo-dev/silo/sqlite"
)

// stores are the metadata and blob stores serve runs on, chosen by --db and
// --blobs.
type stores struct {
	meta  silo.MetaStore
	blobs silo.BlobStore
	// shared is set when either store lives outside this process's data dir
	// (PostgreSQL, S3), so that other instances may be using it too.
	shared bool
}

// openStores opens the stores that c names. The defaults are SQLite and
// files under the data dir.
func openStores(ctx context.Context, c serveConfig, log *slog.Logger) (*stores, error) {
	db, blobs := c.db, c.blobs
	if db == "" {
		db = "sqlite:" + filepath.Join(c.data, "silo.db")
	}
	if blobs == "" {
		blobs = "file:" + filepath.Join(c.data, "blobs")
	}
	st := &stores{}
	var err error
	switch {
	case strings.HasPrefix(db, "sqlite:"):
		path := localPath(db, "sqlite:")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if st.meta, err = sqlite.Open(path, sqlite.Options{}); err != nil {
			return nil, fmt.Errorf("opening the database: %w", err)
		}
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		st.shared = true
		if st.meta, err = postgres.Open(ctx, db, postgres.Options{Logger: log}); err != nil {
			return nil, fmt.Errorf("opening the database: %w", err)
		}
	default:
		return nil, errors.New("--db (SILO_DB): expected sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE")
	}
	switch {
	case strings.HasPrefix(blobs, "file:"):
		st.blobs, err = disk.Open(localPath(blobs, "file:"), disk.Options{MinFreeSpace: c.minFreeSpace})
	case strings.HasPrefix(blobs, "s3://"):
		st.shared = true
		st.blobs, err = s3.Open(ctx, blobs, s3.Options{Logger: log})
	default:
		err = fmt.Errorf("%q: expected file:PATH or s3://BUCKET/PREFIX?endpoint=http://HOST:PORT&region=REGION", blobs)
	}
	if err != nil {
		st.meta.Close()
		return nil, fmt.Errorf("opening the blob store (--blobs, SILO_BLOBS): %w", err)
	}
	return st, nil
}

// localPath returns the path of a sqlite: or file: URL, which may also be
// written sqlite:///abs/path.
func localPath(u, scheme string) string {
	p := strings.TrimPrefix(u, scheme)
	if strings.HasPrefix(p, "///") {
		p = p[2:]
	}
	return p
}

// close closes both stores.
func (st *stores) close() {
	st.blobs.Close()
	st.meta.Close()
}
