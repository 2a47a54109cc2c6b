package sqlite

import "context"

// Ping reads one row through the read pool: the database file is open and
// readable.
func (s *MetaStore) Ping(ctx context.Context) error {
	var one int
	return s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}
