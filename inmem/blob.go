// Package inmem holds the silo stores in memory: fakes for tests that pass the
// same conformance suites as the real backends, and a way to run the server
// without a database or a disk.
package inmem

import (
	"bytes"
	"context"
	"io"
	"sync"
	"time"

	"github.com/silo-dev/silo"
)

// BlobStore is a silo.BlobStore and silo.BlobLister that keeps blobs in memory.
// Stored blobs are never changed in place (a Put replaces the slice), so
// readers share them without copying.
type BlobStore struct {
	// Now is the clock that stamps stored blobs, for testing the orphan sweep
	// without sleeping. Set it before the first Put; the default is time.Now.
	Now func() time.Time

	mu    sync.RWMutex
	blobs map[string]memBlob
}

type memBlob struct {
	data   []byte
	stored time.Time
}

var (
	_ silo.BlobStore  = (*BlobStore)(nil)
	_ silo.BlobLister = (*BlobStore)(nil)
)

// NewBlobStore returns an empty BlobStore.
func NewBlobStore() *BlobStore {
	return &BlobStore{Now: time.Now, blobs: map[string]memBlob{}}
}

// Put reads r to its end and stores the bytes under key. The bytes are only
// stored once r is read to its end and ctx is still live, so a failed or
// cancelled Put leaves nothing. EINVALID for a bad key.
func (s *BlobStore) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := checkBlobKey(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blobs[key] = memBlob{data: data, stored: s.Now()}
	return int64(len(data)), nil
}

// Open returns a reader of length bytes of the blob from offset (length below
// 0: to the end); reading stops at the end of the blob. The reader is an
// io.WriterTo, as a real store's may be. EINVALID, ENOTFOUND.
func (s *BlobStore) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkBlobKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, silo.Errorf(silo.EINVALID, "", "Invalid blob offset %d: expected 0 or more.", offset)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	b, ok := s.blobs[key]
	s.mu.RUnlock()
	if !ok {
		return nil, blobNotFound(key)
	}
	size := int64(len(b.data))
	start := min(offset, size)
	end := size
	if length >= 0 && length < size-start {
		end = start + length
	}
	return io.NopCloser(bytes.NewReader(b.data[start:end])), nil
}

// Delete removes the blob; a missing key is not an error. EINVALID.
func (s *BlobStore) Delete(ctx context.Context, key string) error {
	if err := checkBlobKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.blobs, key)
	return nil
}

// List calls fn for every blob with the time it was stored, in no set order.
// It works on a snapshot, so fn may call the store.
func (s *BlobStore) List(ctx context.Context, fn func(key string, stored time.Time) error) error {
	s.mu.RLock()
	snap := make(map[string]time.Time, len(s.blobs))
	for k, b := range s.blobs {
		snap[k] = b.stored
	}
	s.mu.RUnlock()
	for k, stored := range snap {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(k, stored); err != nil {
			return err
		}
	}
	return nil
}

// Close does nothing: the blobs live as long as the BlobStore.
func (s *BlobStore) Close() error { return nil }

func checkBlobKey(key string) error {
	if !silo.ValidBlobKey(key) {
		return silo.Errorf(silo.EINVALID, "", "Invalid blob key %q: expected segments of [A-Za-z0-9_-] joined by \"/\".", key)
	}
	return nil
}

func blobNotFound(key string) error {
	return silo.Errorf(silo.ENOTFOUND, "", "No blob is stored under key %q.", key)
}
