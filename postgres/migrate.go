package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema changes, applied in the order of the number
// their file name starts with ("0001_init.sql"). Never edit one that has
// shipped; add the next.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrateLock is the advisory lock key that serializes migrations: every
// instance starting at once waits for the first to finish, then finds the
// schema up to date. ("silo_mig" in ASCII.)
const migrateLock int64 = 0x73696c6f5f6d6967

// migrate applies the migrations the database has not seen, all in one
// transaction under migrateLock, and records the schema version reached.
// The tables live in the connection's current schema (search_path).
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	steps, err := migrationSteps()
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
		if last := steps[len(steps)-1].version; version > last {
			return fmt.Errorf("schema version %d is newer than this program's %d; run a newer silo", version, last)
		}
		for _, st := range steps {
			if st.version <= version {
				continue
			}
			if _, err := tx.Exec(ctx, st.sql); err != nil {
				return fmt.Errorf("%s: %w", st.name, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE silo_schema_version SET version = $1`, st.version); err != nil {
				return err
			}
		}
		return nil
	})
}

// migrationStep is one migration file.
type migrationStep struct {
	version int
	name    string
	sql     string
}

// migrationSteps returns the embedded migrations in order, checking that
// their numbers run 1, 2, 3… without gaps or repeats.
func migrationSteps() ([]migrationStep, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var steps []migrationStep
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", e.Name())
		}
		b, err := migrations.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		steps = append(steps, migrationStep{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(steps, func(a, b migrationStep) int { return a.version - b.version })
	for i, st := range steps {
		if st.version != i+1 {
			return nil, fmt.Errorf("migration %s: want number %d", st.name, i+1)
		}
	}
	if len(steps) == 0 {
		return nil, errors.New("no migrations")
	}
	return steps, nil
}
