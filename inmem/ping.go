package inmem

import "context"

// Ping always succeeds: memory is always there.
func (s *MetaStore) Ping(context.Context) error { return nil }

// Ping always succeeds: memory is always there.
func (s *BlobStore) Ping(context.Context) error { return nil }
