package postgres_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/internal/faultnet"
	"github.com/silo-dev/silo/postgres"
)

// throughProxy returns a store on a fresh schema whose connections go through
// a fault proxy, and the proxy.
func throughProxy(t *testing.T, opts postgres.Options) (*postgres.MetaStore, *faultnet.Proxy) {
	t.Helper()
	u, err := url.Parse(freshSchema(t))
	if err != nil || u.Host == "" {
		t.Skip("SILO_TEST_POSTGRES_URL is not a postgres:// URL with a host")
	}
	p := faultnet.NewProxy(t, u.Host)
	u.Host = p.Addr
	s := open(t, u.String(), opts)
	t.Cleanup(func() { s.Close() })
	return s, p
}

// testUpload returns a pending Upload created now, not stored.
func testUpload() *silo.Upload {
	now := time.Now()
	return &silo.Upload{
		ID: silo.NewID(silo.UploadIDPrefix), Project: "proj", Bytes: 10, Filename: "a.txt",
		Purpose: "batch", MimeType: "text/plain", CreatedAt: now.Unix(),
		ExpiresAt: now.Add(time.Hour).Unix(), Status: silo.StatusPending,
	}
}

// recovered calls fn until it succeeds, at most a bounded number of times,
// and fails the test if it never does.
func recovered(t *testing.T, what string, fn func() error) {
	t.Helper()
	var err error
	for range 100 {
		if err = fn(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s once the database is back: still %v", what, err)
}

// TestUnavailable_Down cuts the connection to the database: calls fail with
// EUNAVAILABLE and change nothing, and the same store works again once the
// database can be reached.
func TestUnavailable_Down(t *testing.T) {
	s, p := throughProxy(t, postgres.Options{})
	ctx := context.Background()
	u := testUpload()
	if err := s.CreateUpload(ctx, u, silo.Quota{}); err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}

	p.Cut()
	part := &silo.Part{ID: silo.NewID(silo.PartIDPrefix), UploadID: u.ID, Project: "proj", Size: 10, BlobKey: "parts/x"}
	if err := s.AddPart(ctx, part, time.Now(), silo.PartLimits{Bytes: 100, Count: silo.MaxUploadParts}, silo.Quota{}); silo.ErrorCode(err) != silo.EUNAVAILABLE {
		t.Errorf("AddPart with the database down: got %v, want %s", err, silo.EUNAVAILABLE)
	}
	if _, err := s.GetUpload(ctx, "proj", u.ID); silo.ErrorCode(err) != silo.EUNAVAILABLE {
		t.Errorf("GetUpload with the database down: got %v, want %s", err, silo.EUNAVAILABLE)
	}
	if _, err := s.CancelUpload(ctx, "proj", u.ID, time.Now()); silo.ErrorCode(err) != silo.EUNAVAILABLE {
		t.Errorf("CancelUpload with the database down: got %v, want %s", err, silo.EUNAVAILABLE)
	}

	p.Restore()
	recovered(t, "ListParts", func() error {
		parts, err := s.ListParts(ctx, "proj", u.ID)
		if err == nil && len(parts) != 0 {
			t.Fatalf("ListParts: got %d parts, want none: the AddPart that failed recorded one", len(parts))
		}
		return err
	})
	got, err := s.GetUpload(ctx, "proj", u.ID)
	if err != nil || got.Status != silo.StatusPending {
		t.Errorf("GetUpload: got %v, %v; want the upload still pending", got, err)
	}
}

// TestUnavailable_Stalled makes the database accept connections and never
// answer: calls fail with EUNAVAILABLE within the store's time limit instead
// of hanging, and the store recovers as above.
func TestUnavailable_Stalled(t *testing.T) {
	s, p := throughProxy(t, postgres.Options{OpTimeout: time.Second, ConnectTimeout: 500 * time.Millisecond})
	ctx := context.Background()
	u := testUpload()
	if err := s.CreateUpload(ctx, u, silo.Quota{}); err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	p.Stall()
	if _, err := s.GetUpload(ctx, "proj", u.ID); silo.ErrorCode(err) != silo.EUNAVAILABLE {
		t.Errorf("GetUpload with the database stalled: got %v, want %s", err, silo.EUNAVAILABLE)
	}
	if err := s.CreateUpload(ctx, testUpload(), silo.Quota{}); silo.ErrorCode(err) != silo.EUNAVAILABLE {
		t.Errorf("CreateUpload with the database stalled: got %v, want %s", err, silo.EUNAVAILABLE)
	}
	p.Restore()
	recovered(t, "GetUpload", func() error {
		_, err := s.GetUpload(ctx, "proj", u.ID)
		return err
	})
}

// TestCallerCancel checks that a read whose caller gave up returns the
// caller's error, not EUNAVAILABLE: the database did nothing wrong.
func TestCallerCancel(t *testing.T) {
	s := open(t, freshSchema(t), postgres.Options{})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.GetUpload(ctx, "proj", "upload_x"); err != context.Canceled {
		t.Errorf("GetUpload with a cancelled context: got %v, want %v", err, context.Canceled)
	}
}
