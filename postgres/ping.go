package postgres

import "context"

// Ping takes a connection from the pool and pings the server with it, within
// the store's time limit.
func (s *MetaStore) Ping(ctx context.Context) error {
	octx, cancel := context.WithTimeout(ctx, s.opts.OpTimeout)
	defer cancel()
	return s.pool.Ping(octx)
}
