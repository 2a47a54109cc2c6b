package disk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// List calls fn for every stored blob with its modification time, the time
// its bytes were written. Blobs being written (under tmp/) are not listed,
// nor files the store did not write. A non-nil error from fn stops the listing
// and is returned as it is.
func (s *Store) List(ctx context.Context, fn func(key string, stored time.Time) error) error {
	fanDirs, err := os.ReadDir(s.blobs)
	if err != nil {
		return fmt.Errorf("disk: list: %w", err)
	}
	for _, fd := range fanDirs {
		if !fd.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(s.blobs, fd.Name()))
		if err != nil {
			return fmt.Errorf("disk: list: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			key, ok := keyOf(fd.Name(), e.Name())
			if !ok || !e.Type().IsRegular() {
				continue
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted since the directory was read
			}
			if err != nil {
				return fmt.Errorf("disk: list: %w", err)
			}
			if err := fn(key, info.ModTime()); err != nil {
				return err
			}
		}
	}
	return nil
}
