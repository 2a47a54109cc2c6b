package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/sqlite"
)

// TestGroupCommit_FailureStaysAlone races writes of which some fail inside
// the database (a duplicate id), so that they share batches with writes that
// succeed: each failure must roll back alone and every other write commit.
func TestGroupCommit_FailureStaysAlone(t *testing.T) {
	ctx := context.Background()
	s := open(t, sqlite.Options{})
	defer s.Close()
	upload := func(id string) *silo.Upload {
		return &silo.Upload{ID: id, Project: "p", Bytes: 1, Filename: "f", Purpose: "batch", MimeType: "text/plain",
			CreatedAt: t0.Unix(), ExpiresAt: t0.Unix() + 3600, Status: silo.StatusPending}
	}
	const dup = "upload_dup"
	must(t, "CreateUpload", s.CreateUpload(ctx, upload(dup), silo.Quota{}))

	const n = 64
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		id := fmt.Sprintf("upload_%03d", i)
		if i%4 == 0 {
			id = dup
		}
		wg.Go(func() {
			<-start
			errs[i] = s.CreateUpload(ctx, upload(id), silo.Quota{})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if i%4 == 0 {
			if err == nil {
				t.Errorf("CreateUpload of a duplicate id: got no error")
			}
			continue
		}
		if err != nil {
			t.Errorf("CreateUpload %d: %v", i, err)
			continue
		}
		if _, err := s.GetUpload(ctx, "p", fmt.Sprintf("upload_%03d", i)); err != nil {
			t.Errorf("GetUpload %d after a batch with failures: %v", i, err)
		}
	}
}

// TestWriter_CancelledContext checks that a caller who gave up before its
// write was queued gets its context's error and its write is not made.
func TestWriter_CancelledContext(t *testing.T) {
	s := open(t, sqlite.Options{})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &silo.File{ID: "file-a", Project: "p", CreatedAt: t0.Unix(), Filename: "a", Purpose: "batch"}
	if err := s.CreateFile(ctx, f, silo.Quota{}); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateFile with a cancelled context: got %v, want %v", err, context.Canceled)
	}
	_, err := s.GetFile(context.Background(), "p", f.ID, t0)
	if got := silo.ErrorCode(err); got != silo.ENOTFOUND {
		t.Errorf("GetFile after a cancelled create: got %v, want %s", err, silo.ENOTFOUND)
	}
}
