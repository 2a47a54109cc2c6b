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
	"path/filepath"
	"runtime"
	"strings"
	"time"

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
	wdb, err := sql.Open(driverName, dsn(path, opts.BusyTimeout, writeParams))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One write connection: SQLite takes one writer at a time anyway, and
	// holding it in-process means writes queue here, not on busy_timeout.
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	if err := checkDurable(wdb); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(wdb); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	rdb, err := sql.Open(driverName, dsn(path, opts.BusyTimeout, readParams))
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(opts.ReadConns)
	rdb.SetMaxIdleConns(opts.ReadConns)
	rdb.SetConnMaxLifetime(0)
	w := newWriter(wdb, opts.MaxBatch)
	w.dir = filepath.Dir(path)
	return &MetaStore{w: w, read: rdb}, nil
}

// The connection parameters beside the busy timeout. The write connection
// keeps the WAL journal and commits with synchronous=FULL, so that a commit
// is on disk when it returns; its transactions take the write lock at BEGIN
// (IMMEDIATE), so a batch never fails to upgrade a read lock. The read
// connections cannot write, and their transactions are DEFERRED: a snapshot
// that takes no lock from the writer.
const (
	writeParams = "_pragma=foreign_keys(1)&_pragma=journal_mode(wal)&_pragma=synchronous(full)&_txlock=immediate"
	readParams  = "_pragma=foreign_keys(1)&_pragma=query_only(1)&_txlock=deferred"
)

// dsn returns the data source name of the file at path: a SQLite URI, so
// that no character of the path is read as the start of the parameters, with
// the busy timeout first (the other pragmas may need the lock it waits for)
// and then params.
func dsn(path string, busy time.Duration, params string) string {
	uri := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return fmt.Sprintf("%s?_pragma=busy_timeout(%d)&%s", uri, busy.Milliseconds(), params)
}

// checkDurable fails unless the write connection is in WAL mode, which the
// separate read pool relies on, and commits with synchronous=FULL, on which
// every acknowledged write relies. Some file systems cannot do WAL and SQLite
// silently keeps its rollback journal; a driver that dropped a pragma of the
// data source name would be as silent.
func checkDurable(db *sql.DB) error {
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	var sync int
	if err := db.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil {
		return err
	}
	if sync != synchronousFull {
		return fmt.Errorf("synchronous is %d, want %d (FULL)", sync, synchronousFull)
	}
	return nil
}

// synchronousFull is PRAGMA synchronous's value for FULL.
const synchronousFull = 2

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
