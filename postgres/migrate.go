package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/silo-dev/silo/internal/migrations"
)

// migrationFiles are the schema changes, applied in the order of the number
// their file name starts with ("0001_init.sql"). Never edit one that has
// shipped; add the next.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLock is the advisory lock key that serializes migrations: every
// instance starting at once waits for the first to finish, then finds the
// schema up to date. ("silo_mig" in ASCII.)
const migrateLock int64 = 0x73696c6f5f6d6967

// migrate applies the migrations the database has not seen, all in one
// transaction under migrateLock, and records the schema version reached.
// The tables live in the connection's current schema (search_path).
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	steps, err := migrations.Steps(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Held until the transaction ends, so a crash cannot leave it taken.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS silo_schema_version (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var version int
		switch err := tx.QueryRow(ctx, `SELECT version FROM silo_schema_version`).Scan(&version); {
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := tx.Exec(ctx, `INSERT INTO silo_schema_version (version) VALUES (0)`); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if last := steps[len(steps)-1].Version; version > last {
			return fmt.Errorf("schema version %d is newer than this program's %d; run a newer silo", version, last)
		}
		for _, st := range steps {
			if st.Version <= version {
				continue
			}
			if _, err := tx.Exec(ctx, st.SQL); err != nil {
				return fmt.Errorf("%s: %w", st.Name, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE silo_schema_version SET version = $1`, st.Version); err != nil {
				return err
			}
		}
		return nil
	})
}
