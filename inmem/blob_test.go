package inmem_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/storetest"
)

func TestBlobStore(t *testing.T) {
	storetest.BlobStore(t, func(t *testing.T) silo.BlobStore { return inmem.NewBlobStore() })
}

// TestBlobStore_Now checks that List reports the injected clock, which the
// orphan sweep's tests rely on.
func TestBlobStore_Now(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := inmem.NewBlobStore()
	s.Now = func() time.Time { return at }
	if _, err := s.Put(context.Background(), "k", bytes.NewReader([]byte("x"))); err != nil {
		t.Fatalf("Put: %v", err)
	}
	err := s.List(context.Background(), func(key string, stored time.Time) error {
		if !stored.Equal(at) {
			t.Errorf("List: %q stored at %v, want %v", key, stored, at)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
}
