package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/disk"
	"github.com/silo-dev/silo/postgres"
	"github.com/silo-dev/silo/s3"
	"github.com/silo-dev/silo/service"
	"github.com/silo-dev/silo/sqlite"
)

// Timings of the sweep for orphaned bytes.
const (
	// orphanGrace is how old an unknown blob must be before the periodic
	// sweep deletes it: this or another instance may be writing the bytes of
	// a part right now, and makes its record only once they are all stored.
	// An S3 object made by a multipart upload dates from the upload's start,
	// so this also bounds how long one part may take to arrive.
	orphanGrace = time.Hour
	// sweepInterval is how often every instance sweeps.
	sweepInterval = time.Hour
)

// unfinishedAborter is a blob store that can drop what Puts of dead
// processes left half made (s3.Store).
type unfinishedAborter interface {
	AbortUnfinished(ctx context.Context, keyPrefixes []string, startedBefore time.Time) (int, error)
}

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

// sweepAtStart removes the bytes whose record was never made (a crash between
// the two) before anyone can write again, when this process is the stores'
// only user. Shared stores are swept by sweeping instead.
func (st *stores) sweepAtStart(ctx context.Context, svc *service.Service, log *slog.Logger) error {
	if st.shared {
		return nil
	}
	n, err := svc.SweepOrphans(ctx, time.Now())
	if err != nil {
		return fmt.Errorf("removing orphaned bytes: %w", err)
	}
	if n > 0 {
		log.Info("removed orphaned blobs", "count", n)
	}
	return nil
}

// sweeping sweeps the stores for orphans older than orphanGrace, and aborts
// the multipart uploads that old, every sweepInterval (and at once for shared
// stores, which had no sweep at start), until ctx ends; the channel it
// returns is closed then. Private stores need it too: a blob whose delete
// failed after its record was refused is an orphan.
func (st *stores) sweeping(ctx context.Context, svc *service.Service, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(sweepInterval)
		defer t.Stop()
		if !st.shared {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		for {
			n, err := svc.SweepOrphans(ctx, time.Now().Add(-orphanGrace))
			if err != nil && ctx.Err() == nil {
				log.Error("orphan sweep", "err", err)
			}
			if n > 0 {
				log.Info("removed orphaned blobs", "count", n)
			}
			if a, ok := st.blobs.(unfinishedAborter); ok {
				n, err := a.AbortUnfinished(ctx, service.KeyPrefixes(), time.Now().Add(-orphanGrace))
				if err != nil && ctx.Err() == nil {
					log.Error("aborting unfinished uploads", "err", err)
				}
				if n > 0 {
					log.Info("aborted unfinished multipart uploads", "count", n)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return done
}
