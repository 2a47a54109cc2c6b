// Package disk is a silo.BlobStore that keeps blobs as files on a local disk.
//
// Every Put is a careful write: the bytes go to a temp file under dir/tmp (in
// the same file system, so a rename can move it), are flushed to the device,
// and only then renamed to the blob's name, whose directory is flushed in turn.
// So a blob Put acknowledged survives a crash or power loss, and a half-written
// blob is never seen under its key.
//
// The layout under dir is a stored format; changing it orphans existing blobs:
//
//	dir/LOCK              held (flock) by the one process that uses dir
//	dir/tmp/put-*         blobs being written; removed by Open after a crash
//	dir/BALLAST           space held back for the metadata store (see Options)
//	dir/blobs/ff/a.b.c    the blob of key "a/b/c"; ff is fanOut("a/b/c")
//
// A key's "/" becomes "." in the file name: "." is not a key character, so the
// mapping is one to one, and no key can name a path outside dir/blobs/ff.
// The fan-out directory keeps directories small whatever the keys look like.
package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/silo-dev/silo"
)

// maxKeyLen is the longest key the store takes: a key becomes one file name,
// and file systems allow 255 bytes for one.
const maxKeyLen = 255

// Store is a silo.BlobStore and silo.BlobLister over a directory of a local
// file system. Its readers are io.WriterTo that let net/http send blob bytes
// with sendfile. One process at a time may use a directory.
type Store struct {
	dir   string
	blobs string // dir/blobs
	tmp   string // dir/tmp
	lock  *os.File

	// fanned holds the fan-out directories this process knows exist and has
	// made durable, so that a Put costs no mkdir and no extra fsync after the
	// first one into each directory.
	fanned sync.Map

	space *space
}

// Options tunes a Store. The zero value keeps no reserve.
type Options struct {
	// MinFreeSpace is the free space, in bytes, that Puts leave on the volume
	// of the store's directory: a Put is refused with ESTORAGEFULL before it
	// reads a byte if the volume has less, and stops with ESTORAGEFULL if the
	// free space falls below it while it writes (checked every few MiB, so
	// that parallel Puts together go past it by little). Half of it, at most
	// 64 MiB, is held as a ballast file in the directory: when the volume is
	// full anyway (something else filled it), DropBallast gives that space
	// to the metadata store, if it shares the volume, so that deletes and
	// cancels can still be recorded; the store makes the ballast again once
	// the volume has room. Off Linux the free space is not checked.
	MinFreeSpace int64
	// FreeSpace returns the bytes free on the volume of dir; default statfs.
	// Tests set it to play a full volume.
	FreeSpace func(dir string) (int64, error)
}

var (
	_ silo.BlobStore  = (*Store)(nil)
	_ silo.BlobLister = (*Store)(nil)
	_ silo.Ballast    = (*Store)(nil)
)

// Open opens the store in dir, creating dir if needed, and removes the temp
// files that a crash left behind. It fails if another process has dir open.
func Open(dir string, opts Options) (*Store, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	s := &Store{dir: dir, blobs: filepath.Join(dir, "blobs"), tmp: filepath.Join(dir, "tmp")}
	s.space = newSpace(dir, s.tmp, opts)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("disk: open %s: %w", dir, err)
	}
	if s.lock, err = lockDir(filepath.Join(dir, "LOCK")); err != nil {
		return nil, fmt.Errorf("disk: open %s: %w", dir, err)
	}
	if err := s.prepare(); err != nil {
		s.Close()
		return nil, fmt.Errorf("disk: open %s: %w", dir, err)
	}
	if err := s.space.open(); err != nil {
		s.Close()
		return nil, fmt.Errorf("disk: open %s: %w", dir, err)
	}
	return s, nil
}

// prepare creates blobs/ and tmp/ durably and empties tmp/. Only this process
// holds the lock, so everything in tmp/ is left over from an earlier one.
func (s *Store) prepare() error {
	for _, d := range []string{s.blobs, s.tmp} {
		if err := os.Mkdir(d, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	if err := syncDir(s.dir); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(s.dir)); err != nil {
		return err
	}
	leftovers, err := os.ReadDir(s.tmp)
	if err != nil {
		return err
	}
	for _, e := range leftovers {
		if err := os.RemoveAll(filepath.Join(s.tmp, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the directory for another process. Puts and reads must have
// finished.
// PutBufferBytes is the write buffer one Put holds (silo.PutBufferer).
func (s *Store) PutBufferBytes() int { return bufSize }

func (s *Store) Close() error {
	if s.lock == nil {
		return nil
	}
	err := s.lock.Close()
	s.lock = nil
	return err
}

// path returns the file of key, which must be valid, and its directory.
func (s *Store) path(key string) (file, fanDir string) {
	fanDir = filepath.Join(s.blobs, fanOut(key))
	return filepath.Join(fanDir, strings.ReplaceAll(key, "/", ".")), fanDir
}

// keyOf is the inverse of path: the key stored in file name of fan-out
// directory fanDir, or false for a name the store did not write.
func keyOf(fanDir, name string) (string, bool) {
	key := strings.ReplaceAll(name, ".", "/")
	if len(key) > maxKeyLen || !silo.ValidBlobKey(key) || fanOut(key) != fanDir {
		return "", false
	}
	return key, true
}

// fanOut returns the fan-out directory of key: two hex digits of its FNV-1a
// hash, so that keys sharing a prefix still spread over 256 directories.
func fanOut(key string) string {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	const hex = "0123456789abcdef"
	b := byte(h ^ h>>8 ^ h>>16 ^ h>>24)
	return string([]byte{hex[b>>4], hex[b&15]})
}

// ensureFanDir makes sure the fan-out directory exists and that its entry in
// blobs/ is durable, before a blob is renamed into it. The parent is synced
// even when another goroutine made the directory: that one may not have
// synced yet.
func (s *Store) ensureFanDir(fanDir string) error {
	if _, ok := s.fanned.Load(fanDir); ok {
		return nil
	}
	if err := os.Mkdir(fanDir, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if err := syncDir(s.blobs); err != nil {
		return err
	}
	s.fanned.Store(fanDir, true)
	return nil
}

// syncDir flushes a directory, making the names created in or renamed into it
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func checkKey(key string) error {
	if len(key) > maxKeyLen || !silo.ValidBlobKey(key) {
		return silo.Errorf(silo.EINVALID, "", "Invalid blob key %q: expected at most %d bytes in segments of [A-Za-z0-9_-] joined by \"/\".", key, maxKeyLen)
	}
	return nil
}
