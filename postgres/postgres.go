// Package postgres implements silo.MetaStore on a PostgreSQL database, so
// that any number of silo instances can share one set of records.
//
// Every state change is one transaction that takes the row it changes with a
// conditional UPDATE or SELECT … FOR UPDATE; no lock lives in a process, so
// races between instances settle in the database. The schema is brought up to
// date at Open under an advisory lock, so instances may start together.
//
// When the database cannot be reached, or does not answer in time, methods
// fail fast with EUNAVAILABLE; the pool replaces broken connections by itself,
// so the store works again as soon as the database is back.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/silo-dev/silo"
)

// Options tunes a MetaStore. The zero value gives the defaults.
type Options struct {
	// ConnectTimeout bounds the making of one connection, so that requests
	// fail fast while the database is unreachable. Default 3s; a
	// connect_timeout in the URL takes precedence.
	ConnectTimeout time.Duration
	// OpTimeout bounds each store call, so that a database that stopped
	// answering (a partition, a stuck server) makes calls fail with
	// EUNAVAILABLE instead of hanging. Default 15s.
	OpTimeout time.Duration
	// MaxConns is the size of the connection pool. Default 16; a
	// pool_max_conns in the URL takes precedence.
	MaxConns int32
	// Logger gets pgx's log lines (every query), at debug. Nil discards them.
	Logger *slog.Logger
}

// MetaStore is a silo.MetaStore in a PostgreSQL database. It is safe for
// concurrent use, by many goroutines and by many processes over one database.
type MetaStore struct {
	pool    *pgxpool.Pool
	opts    Options
	creates creates
}

var _ silo.MetaStore = (*MetaStore)(nil)

// Open connects to the database at url (postgres://USER:PASS@HOST:PORT/DB?…,
// or any connection string pgx takes) and brings its schema up to date.
// Parameters pgx does not know, such as search_path, are sent to the server.
func Open(ctx context.Context, url string, opts Options) (*MetaStore, error) {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 3 * time.Second
	}
	if opts.OpTimeout <= 0 {
		opts.OpTimeout = 15 * time.Second
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 16
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error repeats the URL, password included: say less.
		return nil, errors.New("postgres: the database URL cannot be parsed; expected postgres://USER:PASSWORD@HOST:PORT/DATABASE")
	}
	if !hasParam(url, "connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	}
	if !hasParam(url, "pool_max_conns") {
		cfg.MaxConns = opts.MaxConns
	}
	// Idle connections are checked before use (pgxpool pings one idle for
	// more than a second), so a restarted server costs no failed request;
	// the health check also drops dead ones in the background.
	cfg.HealthCheckPeriod = 10 * time.Second
	sh := &shards{}
	cfg.AfterConnect, cfg.BeforeClose = sh.connected, sh.closing
	if t := tracer(opts.Logger); t != nil {
		cfg.ConnConfig.Tracer = t
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &MetaStore{pool: pool, opts: opts}
	s.creates.commit = s.commitCreates
	mctx, cancel := context.WithTimeout(ctx, opts.OpTimeout+opts.ConnectTimeout)
	defer cancel()
	if err := migrate(mctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: bringing the schema up to date at %s:%d/%s: %w",
			cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return s, nil
}

// Close closes the pool's connections, waiting for those in use.
func (s *MetaStore) Close() error {
	s.pool.Close()
	return nil
}

// read runs fn, which only reads, within the store's time limit, and
// translates its error.
func (s *MetaStore) read(ctx context.Context, fn func(ctx context.Context) error) error {
	octx, cancel := context.WithTimeout(ctx, s.opts.OpTimeout)
	defer cancel()
	return translate(ctx, octx, fn(octx))
}

// write runs fn in one transaction within the store's time limit, and
// translates its error. The transaction does not end when the caller gives
// up: a commit interrupted halfway leaves the caller unsure whether its change
// was made, while one that finishes makes it certain.
func (s *MetaStore) write(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	detached := context.WithoutCancel(ctx)
	octx, cancel := context.WithTimeout(detached, s.opts.OpTimeout)
	defer cancel()
	err := pgx.BeginFunc(octx, s.pool, func(tx pgx.Tx) error { return fn(octx, tx) })
	return translate(detached, octx, err)
}

// exec runs one statement, which PostgreSQL makes a transaction of its own,
// as write does.
func (s *MetaStore) exec(ctx context.Context, fn func(ctx context.Context) error) error {
	detached := context.WithoutCancel(ctx)
	octx, cancel := context.WithTimeout(detached, s.opts.OpTimeout)
	defer cancel()
	return translate(detached, octx, fn(octx))
}
