package service_test

import (
	"context"
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/service"
)

// countingBlobs counts the blob opens made for requests whose context is
// marked (the background hashing of arriving parts is not counted).
type countingBlobs struct {
	*inmem.BlobStore
	opens atomic.Int64
}

type markKey struct{}

func (c *countingBlobs) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if ctx.Value(markKey{}) != nil {
		c.opens.Add(1)
	}
	return c.BlobStore.Open(ctx, key, off, n)
}

// TestUploadService_CompleteMD5Chain checks that a complete with md5 and the
// parts in the order they were sent reads no bytes: the digest was chained as
// the parts arrived. In another order it reads only what the chain lacks.
func TestUploadService_CompleteMD5Chain(t *testing.T) {
	blobs := &countingBlobs{BlobStore: inmem.NewBlobStore()}
	f := newFixtureOn(t, blobs)
	var parts [][]byte
	var ids []string
	u := f.upload(t, 5*1000)
	for i := range 5 {
		parts = append(parts, randBytes(1000, byte(i)))
		f.clock.Add(time.Millisecond)
		ids = append(ids, f.part(t, u.ID, parts[i]).ID)
	}
	marked := context.WithValue(f.ctx, markKey{}, true)
	if _, err := f.svc.CompleteUpload(marked, u.ID, ids, md5hex(slices.Concat(parts...))); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if n := blobs.opens.Load(); n != 0 {
		t.Fatalf("complete with md5 in upload order opened %d blobs, want 0", n)
	}

	v := f.upload(t, 5*1000)
	var vids []string
	for i := range 5 {
		f.clock.Add(time.Millisecond)
		vids = append(vids, f.part(t, v.ID, parts[i]).ID)
	}
	order := []string{vids[0], vids[1], vids[2], vids[4], vids[3]}
	blobs.opens.Store(0)
	if _, err := f.svc.CompleteUpload(marked, v.ID, order, md5hex(slices.Concat(parts[0], parts[1], parts[2], parts[4], parts[3]))); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if n := blobs.opens.Load(); n != 2 {
		t.Fatalf("complete with the last two parts swapped opened %d blobs, want 2", n)
	}
}

var _ silo.BlobStore = (*countingBlobs)(nil)

// TestUploadService_NoArrivalMD5: with the arrival hashing off, a complete
// with md5 reads the bytes itself, and gets the same answer.
func TestUploadService_NoArrivalMD5(t *testing.T) {
	blobs := &countingBlobs{BlobStore: inmem.NewBlobStore()}
	f := newFixtureOn(t, blobs)
	f.svc = service.New(f.meta, blobs, service.Config{Now: f.clock.Now, NoArrivalMD5: true})
	var parts [][]byte
	var ids []string
	u := f.upload(t, 3*1000)
	for i := range 3 {
		parts = append(parts, randBytes(1000, byte(i)))
		f.clock.Add(time.Millisecond)
		ids = append(ids, f.part(t, u.ID, parts[i]).ID)
	}
	marked := context.WithValue(f.ctx, markKey{}, true)
	if _, err := f.svc.CompleteUpload(marked, u.ID, ids, md5hex(slices.Concat(parts...))); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if n := blobs.opens.Load(); n != 3 {
		t.Fatalf("complete with md5 and no arrival hashing opened %d blobs, want all 3", n)
	}
}
