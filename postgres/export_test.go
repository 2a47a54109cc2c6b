package postgres

import (
	"context"

	"github.com/silo-dev/silo"
)

// CommitCreates makes the Uploads as one batch of the group commit, and
// returns each one's error.
func CommitCreates(ctx context.Context, s *MetaStore, us []*silo.Upload) []error {
	batch := make([]*createOp, len(us))
	for i, u := range us {
		batch[i] = &createOp{u: u}
	}
	return s.commitCreates(ctx, batch)
}
