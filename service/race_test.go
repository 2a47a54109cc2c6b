package service_test

import (
	"context"
	"strings"
	"testing"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/service"
)

// losingMeta runs beforeListParts once, just before the store lists an
// upload's parts: the moment another request (or instance) can win a race.
// With getFails, GetUpload fails as a database that cannot be reached.
type losingMeta struct {
	*inmem.MetaStore
	beforeListParts func()
	getFails        bool
}

func (m *losingMeta) GetUpload(ctx context.Context, project, uploadID string) (*silo.Upload, error) {
	if m.getFails {
		return nil, silo.Errorf(silo.EUNAVAILABLE, "", "The database is unavailable.")
	}
	return m.MetaStore.GetUpload(ctx, project, uploadID)
}

func (m *losingMeta) ListParts(ctx context.Context, project, uploadID string) ([]*silo.Part, error) {
	if f := m.beforeListParts; f != nil {
		m.beforeListParts = nil
		f()
	}
	return m.MetaStore.ListParts(ctx, project, uploadID)
}

// TestUploadService_CompleteLosesRace: a complete that read the upload pending
// and then lost it to another complete or a cancel answers for the outcome
// that won, not with an error about the parts the winner dropped.
func TestUploadService_CompleteLosesRace(t *testing.T) {
	setup := func(t *testing.T) (*service.Service, *losingMeta, context.Context, *silo.Upload, []string) {
		meta := &losingMeta{MetaStore: inmem.NewMetaStore()}
		svc := service.New(meta, inmem.NewBlobStore(), service.Config{})
		ctx := silo.WithProject(context.Background(), "p")
		u, err := svc.CreateUpload(ctx, &silo.UploadCreate{Filename: "f.jsonl", Purpose: "batch", Bytes: 2, MimeType: "a/b"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range []string{"a", "b"} {
			p, err := svc.AddPart(ctx, u.ID, strings.NewReader(d))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, p.ID)
		}
		return svc, meta, ctx, u, ids
	}
	t.Run("to an identical complete", func(t *testing.T) {
		svc, meta, ctx, u, ids := setup(t)
		var winner *silo.Upload
		meta.beforeListParts = func() {
			var err error
			if winner, err = svc.CompleteUpload(ctx, u.ID, ids, ""); err != nil {
				t.Errorf("winning complete: %v", err)
			}
		}
		got, err := svc.CompleteUpload(ctx, u.ID, ids, "")
		if err != nil {
			t.Fatalf("the losing identical complete: %v, want the winner's upload", err)
		}
		if got.File.ID != winner.File.ID {
			t.Fatalf("got file %s, want the winner's %s", got.File.ID, winner.File.ID)
		}
	})
	t.Run("to a cancel", func(t *testing.T) {
		svc, meta, ctx, u, ids := setup(t)
		meta.beforeListParts = func() {
			if _, err := svc.CancelUpload(ctx, u.ID); err != nil {
				t.Errorf("winning cancel: %v", err)
			}
		}
		_, err := svc.CompleteUpload(ctx, u.ID, ids, "")
		wantCode(t, err, silo.EUPLOADCANCELLED, "")
	})
	// Found by the linearizability test (cmd/silo): a complete that lost
	// the race while the database went away answered part_not_found, a
	// definite "no" to a client whose parts had just made a File.
	t.Run("to a complete, the database lost", func(t *testing.T) {
		svc, meta, ctx, u, ids := setup(t)
		meta.beforeListParts = func() {
			if _, err := svc.CompleteUpload(ctx, u.ID, ids, ""); err != nil {
				t.Errorf("winning complete: %v", err)
			}
			meta.getFails = true
		}
		_, err := svc.CompleteUpload(ctx, u.ID, ids, "")
		wantCode(t, err, silo.EUNAVAILABLE, "")
	})
}
