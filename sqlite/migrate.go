package sqlite

import (
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// migrations are the schema changes, applied in the order of the number
// their file name starts with ("0001_init.sql"). Never edit one that has
// shipped; add the next.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies the migrations the database has not seen, all in one
// transaction, and records the schema version reached.
func migrate(db *sql.DB) error {
	steps, err := migrationSteps()
	if err != nil {
		return err
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	var version int
	switch err := tx.QueryRow(`SELECT version FROM schema_version`).Scan(&version); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.Exec(`INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if last := steps[len(steps)-1].version; version > last {
		return fmt.Errorf("schema version %d is newer than this program's %d", version, last)
	}
	for _, st := range steps {
		if st.version <= version {
			continue
		}
		if _, err := tx.Exec(st.sql); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		if _, err := tx.Exec(`UPDATE schema_version SET version = ?`, st.version); err != nil {
			return err
		}
	}
	return tx.Commit()
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
