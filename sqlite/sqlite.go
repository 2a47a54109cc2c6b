// Package sqlite implements silo.MetaStore on an SQLite database file.
//
// Writes are durable when acknowledged (WAL with synchronous=FULL). One
// connection writes, through a single writer goroutine that commits the
// writes waiting for it together (group commit), so that many concurrent
// writers share one fsync; a pool of other connections reads.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/silo-dev/silo"
)

// Options tunes a MetaStore. The zero value gives the defaults.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock held by another
	// process sharing the database before it fails. Default 5s.
	BusyTimeout time.Duration
	// ReadConns is the number of read connections. Default max(4, GOMAXPROCS).
	ReadConns int
	// MaxBatch is the most writes committed in one transaction. 1 turns group
	// commit off. Default 256.
	MaxBatch int
}

// MetaStore is a silo.MetaStore in an SQLite database.
type MetaStore struct {
	w    *writer
	read *sql.DB
}

var _ silo.MetaStore = (*MetaStore)(nil)

// Open opens the database at path, creating it if need be, and brings its
// schema up to date. path names a file; "?" and "#" are taken literally.
func Open(path string, opts Options) (*MetaStore, error) {
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1&_stmt_cache_size=64", opts.BusyTimeout.Milliseconds())
	wdb, err := sql.Open("sqlite3", uri(path)+"?_journal_mode=WAL&_synchronous=FULL&_txlock=immediate&"+common)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One write connection: SQLite takes one writer at a time anyway, and
	// holding it in-process means writes queue here, not on busy_timeout.
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	if err := checkWAL(wdb); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(wdb); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	rdb, err := sql.Open("sqlite3", uri(path)+"?_query_only=1&"+common)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(opts.ReadConns)
	rdb.SetMaxIdleConns(opts.ReadConns)
	rdb.SetConnMaxLifetime(0)
	return &MetaStore{w: newWriter(wdb, opts.MaxBatch), read: rdb}, nil
}

// uri returns the SQLite URI of the file at path, so that no character of
// the path is read as the start of the parameters.
func uri(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// checkWAL fails unless the database is in WAL mode, which the separate read
// pool relies on; some file systems cannot do it and SQLite silently keeps
// its rollback journal.
func checkWAL(db *sql.DB) error {
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	return nil
}

// Close waits for the queued writes, then closes the database.
func (s *MetaStore) Close() error {
	werr := s.w.close()
	rerr := s.read.Close()
	return errors.Join(werr, rerr)
}

// readTx runs fn in a read transaction, so that what it reads is one
// snapshot of the database.
func (s *MetaStore) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	return translate(fn(tx))
}

// translate turns driver errors a client may act on into *silo.Error, by
// their SQLite code; every other error stays internal.
func translate(err error) error {
	var se sqlite3.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch se.Code {
	case sqlite3.ErrFull:
		return silo.Errorf(silo.ESTORAGEFULL, "", "The metadata store is out of space; try again once space is freed.")
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		return silo.Errorf(silo.EUNAVAILABLE, "", "The metadata store is busy; try again shortly.")
	}
	return fmt.Errorf("sqlite: %w", err)
}
