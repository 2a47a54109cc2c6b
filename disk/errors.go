package disk

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/silo-dev/silo"
)

// putErr translates a file-system error of writing key: a full disk or an
// exhausted quota is ESTORAGEFULL, which a client may act on; anything else is
// internal.
func putErr(key string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return silo.Errorf(silo.ESTORAGEFULL, "", "The blob store has no space left for blob %q; free some space or try again later.", key)
	}
	return fmt.Errorf("disk: put %s: %w", key, err)
}

// openErr translates a file-system error of opening key: a missing file is
// ENOTFOUND, anything else is internal.
func openErr(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return silo.Errorf(silo.ENOTFOUND, "", "No blob is stored under key %q.", key)
	}
	return fmt.Errorf("disk: open %s: %w", key, err)
}
