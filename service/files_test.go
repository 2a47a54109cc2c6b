package service_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/service"
)

func TestFileService_CreateFile(t *testing.T) {
	t.Run("fields after the file", func(t *testing.T) {
		f := newFixture(t)
		data := randBytes(10_000, 9)
		file, err := f.svc.CreateFile(f.ctx, &silo.FileCreate{
			Filename: "train.jsonl",
			Data:     bytes.NewReader(data),
			Rest: func(r *silo.FileCreate) error {
				r.Purpose = "fine-tune"
				r.ExpiresAfter = &silo.ExpiresAfter{Anchor: "created_at", Seconds: 7200}
				return nil
			},
		})
		if err != nil {
			t.Fatalf("CreateFile: %v", err)
		}
		if file.Bytes != 10_000 || file.Purpose != "fine-tune" || file.ExpiresAt != t0.Unix()+7200 || !strings.HasPrefix(file.ID, "file-") {
			t.Fatalf("got %+v", file)
		}
		if got := f.content(t, file.ID, 0, -1); !bytes.Equal(got, data) {
			t.Fatal("content differs from what was sent")
		}
	})
	t.Run("bad purpose before the file reads nothing", func(t *testing.T) {
		f := newFixture(t)
		r := &countingReader{r: strings.NewReader("abc")}
		_, err := f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: "a", Purpose: "nope", Data: r})
		wantCode(t, err, silo.EINVALID, "purpose")
		if r.n != 0 {
			t.Errorf("read %d bytes of a file with a bad purpose, want 0", r.n)
		}
	})
	t.Run("bad or missing purpose after the file keeps nothing", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: "a", Data: strings.NewReader("abc")})
		wantCode(t, err, silo.EMISSING, "purpose")
		_, err = f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: "a", Data: strings.NewReader("abc"),
			Rest: func(r *silo.FileCreate) error {
				r.Purpose = "assistants"
				r.ExpiresAfter = &silo.ExpiresAfter{Anchor: "created_at", Seconds: 1}
				return nil
			}})
		wantCode(t, err, silo.EINVALID, "expires_after.seconds")
		if n := blobCount(t, f); n != 0 {
			t.Fatalf("got %d blobs after rejected files, want 0", n)
		}
	})
	t.Run("too large", func(t *testing.T) {
		blobs := &discardBlobs{}
		f := newFixtureOn(t, blobs)
		_, err := f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: "a", Purpose: "assistants", Data: io.LimitReader(zeros{}, silo.MaxFileBytes+1)})
		wantCode(t, err, silo.EFILETOOLARGE, "file")
		if n := blobs.len(); n != 0 {
			t.Fatalf("got %d blobs after a rejected file, want 0", n)
		}
	})
}

func TestFileService_GetListDelete(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i := range 5 {
		purpose := "assistants"
		if i%2 == 1 {
			purpose = "vision"
		}
		file, err := f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: "x", Purpose: purpose, Data: strings.NewReader("hi")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, file.ID)
	}
	if _, err := f.svc.GetFile(f.other, ids[0]); silo.ErrorCode(err) != silo.ENOTFOUND {
		t.Fatalf("GetFile from another project: got %v, want not found", err)
	}
	_, err := f.svc.GetFile(f.ctx, "file-nope")
	wantCode(t, err, silo.ENOTFOUND, "file_id")

	l, err := f.svc.ListFiles(f.ctx, silo.FileQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Files) != 2 || !l.HasMore || l.Files[0].ID != ids[4] || l.Files[1].ID != ids[3] {
		t.Fatalf("first page desc: got %d files, has_more %v", len(l.Files), l.HasMore)
	}
	if err := f.svc.DeleteFile(f.ctx, ids[3]); err != nil {
		t.Fatal(err)
	}
	l, err = f.svc.ListFiles(f.ctx, silo.FileQuery{Limit: 2, After: ids[3]})
	if err != nil {
		t.Fatalf("paging after a deleted file: %v", err)
	}
	if len(l.Files) != 2 || l.Files[0].ID != ids[2] || l.Files[1].ID != ids[1] || !l.HasMore {
		t.Fatalf("page after deleted file: got %v", l.Files)
	}
	l, err = f.svc.ListFiles(f.ctx, silo.FileQuery{Purpose: "vision", Order: "asc"})
	if err != nil || len(l.Files) != 1 || l.Files[0].ID != ids[1] || l.HasMore {
		t.Fatalf("vision asc: got %v, %v; want only %s", l, err, ids[1])
	}
	_, err = f.svc.ListFiles(f.ctx, silo.FileQuery{After: "file-nope"})
	wantCode(t, err, silo.EINVALID, "after")
	_, err = f.svc.ListFiles(f.ctx, silo.FileQuery{Limit: 10001})
	wantCode(t, err, silo.EINVALID, "limit")
	_, err = f.svc.ListFiles(f.ctx, silo.FileQuery{Order: "up"})
	wantCode(t, err, silo.EINVALID, "order")
	err = f.svc.DeleteFile(f.ctx, ids[3])
	wantCode(t, err, silo.ENOTFOUND, "file_id")
	err = f.svc.DeleteFile(f.other, ids[0])
	wantCode(t, err, silo.ENOTFOUND, "file_id")
	if st, err := f.reap(); err != nil || st.DeletedBlobs != 1 {
		t.Fatalf("reap after delete: %+v, %v; want 1 blob deleted", st, err)
	}
}

func TestFileService_Expiry(t *testing.T) {
	f := newFixture(t)
	file, err := f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: "x", Purpose: "user_data", Data: strings.NewReader("hi"),
		ExpiresAfter: &silo.ExpiresAfter{Anchor: "created_at", Seconds: 3600}})
	if err != nil {
		t.Fatal(err)
	}
	forever, err := f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: "y", Purpose: "user_data", Data: strings.NewReader("hi")})
	if err != nil || forever.ExpiresAt != 0 {
		t.Fatalf("got %+v, %v; want a file that never expires", forever, err)
	}
	f.clock.Set(time.Unix(file.ExpiresAt, 0).Add(-time.Nanosecond))
	if _, err := f.svc.GetFile(f.ctx, file.ID); err != nil {
		t.Fatalf("file just before expiry: %v", err)
	}
	f.clock.Set(time.Unix(file.ExpiresAt, 0))
	_, err = f.svc.GetFile(f.ctx, file.ID)
	wantCode(t, err, silo.ENOTFOUND, "file_id")
	l, err := f.svc.ListFiles(f.ctx, silo.FileQuery{})
	if err != nil || len(l.Files) != 1 || l.Files[0].ID != forever.ID {
		t.Fatalf("list after expiry: got %v, %v; want only the file that never expires", l, err)
	}
	if st, err := f.reap(); err != nil || st.ExpiredFiles != 1 || st.DeletedBlobs != 1 {
		t.Fatalf("reap: %+v, %v; want 1 expired file and its blob deleted", st, err)
	}
}

func TestFileService_OpenFile(t *testing.T) {
	f := newFixture(t)
	file, err := f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: "x", Purpose: "user_data", Data: strings.NewReader("hello")})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.content(t, file.ID, 1, 3); string(got) != "ell" {
		t.Fatalf("got %q, want ell", got)
	}
	if got := f.content(t, file.ID, 5, -1); len(got) != 0 {
		t.Fatalf("got %q at the end, want nothing", got)
	}
	_, _, err = f.svc.OpenFile(f.ctx, file.ID, 6, -1)
	wantCode(t, err, silo.ERANGE, "")
	// A blob store that fails fails the open, before any response begins.
	down := &failingOpen{BlobStore: f.blobs, err: silo.Errorf(silo.EUNAVAILABLE, "", "down")}
	svc := service.New(f.meta, down, service.Config{Now: f.clock.Now})
	_, _, err = svc.OpenFile(f.ctx, file.ID, 0, -1)
	wantCode(t, err, silo.EUNAVAILABLE, "")
	down.err = silo.Errorf(silo.ENOTFOUND, "", "no such blob")
	if _, _, err = svc.OpenFile(f.ctx, file.ID, 0, -1); silo.ErrorCode(err) != silo.EINTERNAL {
		t.Fatalf("a file whose blob is missing: got %v, want an internal error", err)
	}
	// A blob that lost bytes is an error, never a short file.
	f.blobs.Put(context.Background(), file.Blobs[0].Key, strings.NewReader("hell"))
	_, rc, err := f.svc.OpenFile(f.ctx, file.ID, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(rc); err != io.ErrUnexpectedEOF {
		t.Fatalf("reading a short blob: got %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestService_SweepOrphans(t *testing.T) {
	f := newFixture(t)
	u := f.upload(t, 1)
	f.part(t, u.ID, []byte("a"))
	f.blobs.Put(context.Background(), "parts/part_orphan", strings.NewReader("lost"))
	// A key the service never writes: another application's, in a shared bucket.
	f.blobs.Put(context.Background(), "backups/db-dump", strings.NewReader("not ours"))
	n, err := f.svc.SweepOrphans(context.Background(), time.Now().Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("got %d, %v; want the one orphan removed", n, err)
	}
	if c := blobCount(t, f); c != 2 {
		t.Fatalf("got %d blobs, want the recorded part and the foreign key kept", c)
	}
}

// blobCount counts the blobs in the fixture's store.
func blobCount(t *testing.T, f *fixture) int {
	t.Helper()
	n := 0
	err := f.blobs.List(context.Background(), func(string, time.Time) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// failingOpen is a blob store whose Open fails with err.
type failingOpen struct {
	silo.BlobStore
	err error
}

func (f *failingOpen) Open(context.Context, string, int64, int64) (io.ReadCloser, error) {
	return nil, f.err
}
