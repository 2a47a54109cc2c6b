package service_test

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/service"
)

// watchedBlobs is an inmem blob store whose reads are slow and counted, and
// that fails the test when it is used after closed is set.
type watchedBlobs struct {
	*inmem.BlobStore
	t      *testing.T
	reads  atomic.Int64
	closed atomic.Bool
}

func (w *watchedBlobs) use(op string) {
	if w.closed.Load() {
		w.t.Errorf("%s after the Service was closed", op)
	}
}

func (w *watchedBlobs) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	w.use("Open")
	rc, err := w.BlobStore.Open(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	return &slowReader{rc: rc, w: w}, nil
}

type slowReader struct {
	rc io.ReadCloser
	w  *watchedBlobs
}

func (r *slowReader) Read(p []byte) (int, error) {
	r.w.use("Read")
	r.w.reads.Add(1)
	time.Sleep(5 * time.Millisecond)
	return r.rc.Read(p[:min(len(p), 64<<10)])
}

func (r *slowReader) Close() error { return r.rc.Close() }

func TestService_CloseStopsHashing(t *testing.T) {
	blobs := &watchedBlobs{BlobStore: inmem.NewBlobStore(), t: t}
	svc := service.New(inmem.NewMetaStore(), blobs, service.Config{})
	ctx := silo.WithProject(context.Background(), "p1")
	u, err := svc.CreateUpload(ctx, &silo.UploadCreate{Filename: "a", Purpose: "user_data", Bytes: 16 << 20, MimeType: "x"})
	if err != nil {
		t.Fatal(err)
	}
	// The first part is hashed inline as it arrives; the second, sent while
	// the first is mid-way, overtakes it and is read back to be hashed.
	first := newGatedReader(make([]byte, 1<<20))
	res := make(chan error, 1)
	go func() {
		_, err := svc.AddPart(ctx, u.ID, first)
		res <- err
	}()
	<-first.half
	if _, err := svc.AddPart(ctx, u.ID, bytes.NewReader(make([]byte, 15<<20))); err != nil {
		t.Fatal(err)
	}
	close(first.open)
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	// 240 slow reads hash the second part: wait until the hashing is under way.
	deadline := time.Now().Add(10 * time.Second)
	for blobs.reads.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if blobs.reads.Load() == 0 {
		t.Fatal("the part was never hashed")
	}
	svc.Close()
	blobs.closed.Store(true)
	got := blobs.reads.Load()
	if got >= 240 {
		t.Errorf("the hashing ran to its end (%d reads) before Close returned, want it stopped", got)
	}
	time.Sleep(50 * time.Millisecond) // a worker left running would read now
	// A new part after Close is still taken; nothing hashes it.
	blobs.closed.Store(false)
	if _, err := svc.AddPart(ctx, u.ID, bytes.NewReader(make([]byte, 1<<20))); err != nil {
		t.Fatalf("a part after Close: %v", err)
	}
	n := blobs.reads.Load()
	time.Sleep(50 * time.Millisecond)
	if blobs.reads.Load() != n {
		t.Errorf("a part added after Close was hashed in the background")
	}
}

func TestService_RunReapsUntilCancelled(t *testing.T) {
	f := newFixture(t)
	u := f.upload(t, 10)
	f.clock.Add(2 * time.Hour)
	svc := service.New(f.meta, f.blobs, service.Config{Now: f.clock.Now, ReapInterval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Run(ctx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := f.meta.GetUpload(context.Background(), "p1", u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == silo.StatusExpired {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run never reaped the expired Upload")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestService_SweepAtStart(t *testing.T) {
	for _, shared := range []bool{false, true} {
		f := newFixture(t)
		if _, err := f.blobs.Put(context.Background(), "parts/part_orphan", bytes.NewReader([]byte("x"))); err != nil {
			t.Fatal(err)
		}
		svc := service.New(f.meta, f.blobs, service.Config{Now: f.clock.Now, SharedStores: shared})
		if err := svc.SweepAtStart(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, err := f.blobs.Open(context.Background(), "parts/part_orphan", 0, -1)
		if gone := silo.ErrorCode(err) == silo.ENOTFOUND; gone == shared {
			t.Errorf("shared stores %v: orphan deleted %v, want %v", shared, gone, !shared)
		}
	}
}
