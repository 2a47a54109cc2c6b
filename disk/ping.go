package disk

import (
	"context"
	"fmt"
	"os"
)

// Ping checks that the blobs directory is still there and a directory (an
// unmounted or removed volume fails it).
func (s *Store) Ping(ctx context.Context) error {
	fi, err := os.Stat(s.blobs)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("disk: %s is not a directory", s.blobs)
	}
	return nil
}
