package service_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/service"
)

// fullVolume is a volume shared by a metadata store and a blob store with a
// ballast of 4 MiB: while it is full, every metadata write fails with
// ESTORAGEFULL; dropping the ballast makes room.
type fullVolume struct {
	mu      sync.Mutex
	full    bool  // metadata writes fail
	free    int64 // what the volume reports free
	ballast bool  // held
	drops   int   // ballasts dropped
	refused []string
}

func (v *fullVolume) write(op string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.full {
		v.refused = append(v.refused, op)
		return silo.Errorf(silo.ESTORAGEFULL, "", "The metadata store is out of space; try again once space is freed.")
	}
	return nil
}

// fill makes metadata writes fail, with free bytes reported free and the
// ballast held or not.
func (v *fullVolume) fill(free int64, ballast bool) {
	v.mu.Lock()
	v.full, v.free, v.ballast, v.refused = true, free, ballast, nil
	v.mu.Unlock()
}

// fullMeta is an inmem.MetaStore on a fullVolume.
type fullMeta struct {
	*inmem.MetaStore
	v *fullVolume
}

func (m *fullMeta) CreateUpload(ctx context.Context, u *silo.Upload, q silo.Quota) error {
	if err := m.v.write("CreateUpload"); err != nil {
		return err
	}
	return m.MetaStore.CreateUpload(ctx, u, q)
}

func (m *fullMeta) DeleteFile(ctx context.Context, project, id string, now time.Time) error {
	if err := m.v.write("DeleteFile"); err != nil {
		return err
	}
	return m.MetaStore.DeleteFile(ctx, project, id, now)
}

func (m *fullMeta) CancelUpload(ctx context.Context, project, id string, now time.Time) (*silo.Upload, error) {
	if err := m.v.write("CancelUpload"); err != nil {
		return nil, err
	}
	return m.MetaStore.CancelUpload(ctx, project, id, now)
}

func (m *fullMeta) ExpireUploads(ctx context.Context, now time.Time, n int) (int, error) {
	if err := m.v.write("ExpireUploads"); err != nil {
		return 0, err
	}
	return m.MetaStore.ExpireUploads(ctx, now, n)
}

func (m *fullMeta) ExpireFiles(ctx context.Context, now time.Time, n int) (int, error) {
	if err := m.v.write("ExpireFiles"); err != nil {
		return 0, err
	}
	return m.MetaStore.ExpireFiles(ctx, now, n)
}

func (m *fullMeta) ClaimGarbage(ctx context.Context, before, now time.Time, lease time.Duration, n int) ([]string, error) {
	if err := m.v.write("ClaimGarbage"); err != nil {
		return nil, err
	}
	return m.MetaStore.ClaimGarbage(ctx, before, now, lease, n)
}

func (m *fullMeta) ForgetGarbage(ctx context.Context, keys []string) error {
	if err := m.v.write("ForgetGarbage"); err != nil {
		return err
	}
	return m.MetaStore.ForgetGarbage(ctx, keys)
}

// ballastBlobs is an inmem.BlobStore with a ballast on a fullVolume.
type ballastBlobs struct {
	*inmem.BlobStore
	v *fullVolume
}

func (b *ballastBlobs) DropBallast(below int64) {
	b.v.mu.Lock()
	defer b.v.mu.Unlock()
	if b.v.ballast && b.v.free < below {
		b.v.ballast, b.v.full, b.v.free = false, false, b.v.free+4<<20
		b.v.drops++
	}
}

// plainBlobs hides the ballast of an inmem.BlobStore: it has none.
type plainBlobs struct{ *inmem.BlobStore }

// TestService_FullVolume: deletes, cancels and the reaper are recorded on a
// volume something else filled, by dropping the ballast; other writes are
// refused and leave the ballast alone.
func TestService_FullVolume(t *testing.T) {
	type setup struct {
		svc   *service.Service
		v     *fullVolume
		blobs *inmem.BlobStore
		clock *clock
		ctx   context.Context
	}
	newSetup := func(t *testing.T, withBallast bool) *setup {
		v := &fullVolume{}
		st := &setup{v: v, blobs: inmem.NewBlobStore(), clock: &clock{t: t0}, ctx: silo.WithProject(context.Background(), "p")}
		var blobs silo.BlobStore = &plainBlobs{st.blobs}
		if withBallast {
			blobs = &ballastBlobs{BlobStore: st.blobs, v: v}
		}
		st.svc = service.New(&fullMeta{MetaStore: inmem.NewMetaStore(), v: v}, blobs, service.Config{Now: st.clock.Now})
		return st
	}
	file := func(t *testing.T, st *setup) *silo.File {
		t.Helper()
		f, err := st.svc.CreateFile(st.ctx, &silo.FileCreate{Filename: "f.txt", Purpose: "user_data", Data: strings.NewReader("bytes")})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	upload := func(t *testing.T, st *setup) *silo.Upload {
		t.Helper()
		u, err := st.svc.CreateUpload(st.ctx, &silo.UploadCreate{Filename: "f.jsonl", Purpose: "batch", Bytes: 1, MimeType: "a/b"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.svc.AddPart(st.ctx, u.ID, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
		return u
	}

	t.Run("delete", func(t *testing.T) {
		st := newSetup(t, true)
		f := file(t, st)
		st.v.fill(0, true)
		if err := st.svc.DeleteFile(st.ctx, f.ID); err != nil {
			t.Fatalf("DeleteFile on a full volume: %v, want it recorded", err)
		}
		if _, err := st.svc.GetFile(st.ctx, f.ID); silo.ErrorCode(err) != silo.ENOTFOUND {
			t.Errorf("GetFile after the delete: got %v, want code %q", err, silo.ENOTFOUND)
		}
		// Dropped before the write: a driver may not say ESTORAGEFULL.
		if st.v.drops != 1 || len(st.v.refused) != 0 {
			t.Errorf("ballast dropped %d times, writes refused %q; want 1 drop before any write", st.v.drops, st.v.refused)
		}
	})
	t.Run("full to the metadata store only", func(t *testing.T) {
		// The volume reports room, yet the write fails for want of space
		// (a database on a volume of its own, a write larger than the room).
		st := newSetup(t, true)
		f := file(t, st)
		st.v.fill(1<<30, true)
		if err := st.svc.DeleteFile(st.ctx, f.ID); err != nil {
			t.Fatalf("DeleteFile: %v, want it recorded on the second try", err)
		}
		if st.v.drops != 1 || strings.Join(st.v.refused, ",") != "DeleteFile" {
			t.Errorf("ballast dropped %d times, writes refused %q; want 1 drop after 1 refusal", st.v.drops, st.v.refused)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		st := newSetup(t, true)
		u := upload(t, st)
		st.v.fill(0, true)
		got, err := st.svc.CancelUpload(st.ctx, u.ID)
		if err != nil {
			t.Fatalf("CancelUpload on a full volume: %v, want it recorded", err)
		}
		if got.Status != silo.StatusCancelled {
			t.Errorf("status: got %q, want %q", got.Status, silo.StatusCancelled)
		}
	})
	t.Run("reaper", func(t *testing.T) {
		st := newSetup(t, true)
		f, u := file(t, st), upload(t, st)
		if err := st.svc.DeleteFile(st.ctx, f.ID); err != nil {
			t.Fatal(err)
		}
		st.clock.Add(2 * time.Hour) // u expires
		st.v.fill(0, true)
		got, err := st.svc.Reap(st.ctx)
		if err != nil {
			t.Fatalf("Reap on a full volume: %v", err)
		}
		if got.ExpiredUploads != 1 || got.DeletedBlobs != 2 {
			t.Errorf("Reap: got %+v, want 1 upload expired and 2 blobs (the file's, the part's) deleted", got)
		}
		var left []string
		st.blobs.List(st.ctx, func(key string, _ time.Time) error {
			left = append(left, key)
			return nil
		})
		if len(left) != 0 {
			t.Errorf("blobs left: %q, want none", left)
		}
		if got, err := st.svc.CancelUpload(st.ctx, u.ID); silo.ErrorCode(err) != silo.EUPLOADEXPIRED {
			t.Errorf("cancel of the reaped upload: got %v, %v; want code %q", got, err, silo.EUPLOADEXPIRED)
		}
	})
	t.Run("nothing to drop", func(t *testing.T) {
		for _, withBallast := range []bool{true, false} {
			st := newSetup(t, withBallast)
			f := file(t, st)
			st.v.fill(0, false) // full, and the ballast already dropped or none
			err := st.svc.DeleteFile(st.ctx, f.ID)
			wantCode(t, err, silo.ESTORAGEFULL, "")
			want := []string{"DeleteFile"}
			if withBallast {
				want = append(want, "DeleteFile") // retried once, no more
			}
			if strings.Join(st.v.refused, ",") != strings.Join(want, ",") {
				t.Errorf("with ballast %v: writes tried %q, want %q", withBallast, st.v.refused, want)
			}
		}
	})
	t.Run("other writes keep the ballast", func(t *testing.T) {
		st := newSetup(t, true)
		st.v.fill(0, true)
		_, err := st.svc.CreateUpload(st.ctx, &silo.UploadCreate{Filename: "f.jsonl", Purpose: "batch", Bytes: 1, MimeType: "a/b"})
		wantCode(t, err, silo.ESTORAGEFULL, "")
		if st.v.drops != 0 || !st.v.ballast {
			t.Errorf("a refused CreateUpload dropped the ballast (%d drops)", st.v.drops)
		}
	})
}
