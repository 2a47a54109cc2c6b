// Package atomicfile replaces a file's contents at once: the bytes go to a
// temporary file beside it, renamed over it when complete, so that a reader,
// an interrupted writer or a crash leaves the old contents or the new, never
// a part of them under the file's name.
package atomicfile

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write writes r to path, a file of mode perm. The temporary file is
// ".NAME.*.tmp" in path's directory, removed if anything fails. With durable,
// the bytes are synced before the rename and the directory after it, so that
// the new contents survive a crash once Write returns (a resume state);
// without, both syncs are left to the kernel (a large download, which the user
// can fetch again).
func Write(path string, r io.Reader, perm fs.FileMode, durable bool) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	err = tmp.Chmod(perm)
	if err == nil {
		_, err = io.Copy(tmp, r)
	}
	if err == nil && durable {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if durable {
		if d, err := os.Open(dir); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
}
