package sqlite

import (
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/silo-dev/silo/internal/migrations"
)

// migrationFiles are the schema changes, applied in the order of the number
// their file name starts with ("0001_init.sql"). Never edit one that has
// shipped; add the next.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies the migrations the database has not seen, all in one
// transaction, and records the schema version reached.
func migrate(db *sql.DB) error {
	steps, err := migrations.Steps(migrationFiles, "migrations")
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
	if last := steps[len(steps)-1].Version; version > last {
		return fmt.Errorf("schema version %d is newer than this program's %d", version, last)
	}
	for _, st := range steps {
		if st.Version <= version {
			continue
		}
		if _, err := tx.Exec(st.SQL); err != nil {
			return fmt.Errorf("%s: %w", st.Name, err)
		}
		if _, err := tx.Exec(`UPDATE schema_version SET version = ?`, st.Version); err != nil {
			return err
		}
	}
	return tx.Commit()
}
