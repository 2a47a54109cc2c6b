package service_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/service"
)

// withQuota is a fixture whose service applies q to every project.
func withQuota(t *testing.T, q silo.Quota) *fixture {
	t.Helper()
	f := newFixture(t)
	f.svc = service.New(f.meta, f.blobs, service.Config{Now: f.clock.Now, NewID: (&ids{}).New, Quota: q})
	return f
}

// untouched is a body that fails the test if it is read.
type untouched struct{ t *testing.T }

func (u untouched) Read([]byte) (int, error) {
	u.t.Errorf("the body was read, though the quota was used up before it")
	return 0, io.EOF
}

// blobCount returns how many blobs the fixture's blob store holds.
func (f *fixture) blobCount(t *testing.T) int {
	t.Helper()
	n := 0
	if err := f.blobs.List(context.Background(), func(string, time.Time) error { n++; return nil }); err != nil {
		t.Fatalf("List: %v", err)
	}
	return n
}

// wantUsage fails unless the project p1 holds want.
func (f *fixture) wantUsage(t *testing.T, what string, want silo.Usage) {
	t.Helper()
	got, err := f.meta.Usage(context.Background(), "p1")
	if err != nil || got != want {
		t.Errorf("usage %s: got %+v, %v; want %+v", what, got, err, want)
	}
}

func TestService_QuotaBytes(t *testing.T) {
	f := withQuota(t, silo.Quota{Bytes: 10})
	u := f.upload(t, 10)
	p1 := f.part(t, u.ID, []byte("hello"))

	// More bytes than are left: read, refused at the record, and not kept.
	blobs := f.blobCount(t)
	_, err := f.svc.AddPart(f.ctx, u.ID, strings.NewReader("world!"))
	wantCode(t, err, silo.EQUOTA, "")
	if !strings.Contains(silo.ErrorMessage(err), "stores 5 of its 10 bytes") {
		t.Errorf("message: %q", silo.ErrorMessage(err))
	}
	if got := f.blobCount(t); got != blobs {
		t.Errorf("blobs after the refused part: got %d, want %d", got, blobs)
	}
	_, err = f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: "a.jsonl", Purpose: "batch", Data: strings.NewReader("123456")})
	wantCode(t, err, silo.EQUOTA, "")
	if got := f.blobCount(t); got != blobs {
		t.Errorf("blobs after the refused file: got %d, want %d", got, blobs)
	}

	// Up to the quota exactly, then nothing more is read.
	p2 := f.part(t, u.ID, []byte("world"))
	f.wantUsage(t, "at the quota", silo.Usage{Bytes: 10, PendingUploads: 1})
	_, err = f.svc.AddPart(f.ctx, u.ID, untouched{t})
	wantCode(t, err, silo.EQUOTA, "")
	_, err = f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: "a.jsonl", Purpose: "batch", Data: untouched{t}})
	wantCode(t, err, silo.EQUOTA, "")

	// Another project has a quota of its own.
	other, err := f.svc.CreateFile(f.other, &silo.FileCreate{Filename: "b.jsonl", Purpose: "batch", Data: strings.NewReader("0123456789")})
	if err != nil {
		t.Fatalf("CreateFile of another project: %v", err)
	}

	// Completing keeps the bytes; deleting frees them.
	done, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{p1.ID, p2.ID}, "")
	if err != nil {
		t.Fatalf("CompleteUpload at the quota: %v", err)
	}
	f.wantUsage(t, "after completing", silo.Usage{Bytes: 10, Files: 1})
	if err := f.svc.DeleteFile(f.ctx, done.File.ID); err != nil {
		t.Fatalf("DeleteFile: %v", err)
	}
	if err := f.svc.DeleteFile(f.other, other.ID); err != nil {
		t.Fatalf("DeleteFile of the other project: %v", err)
	}
	f.wantUsage(t, "after deleting", silo.Usage{})
	if _, err := f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: "c.jsonl", Purpose: "batch", Data: strings.NewReader("0123456789")}); err != nil {
		t.Errorf("CreateFile once space was freed: %v", err)
	}
}

func TestService_QuotaFilesAndUploads(t *testing.T) {
	f := withQuota(t, silo.Quota{Files: 1, PendingUploads: 1})
	u := f.upload(t, 2)
	_, err := f.svc.CreateUpload(f.ctx, &silo.UploadCreate{Filename: "b.jsonl", Purpose: "batch", Bytes: 1, MimeType: "text/plain"})
	wantCode(t, err, silo.EQUOTA, "")
	if !strings.Contains(silo.ErrorMessage(err), "1 of its 1 pending uploads (--quota-pending-uploads)") {
		t.Errorf("message: %q", silo.ErrorMessage(err))
	}
	p := f.part(t, u.ID, []byte("hi"))
	file, err := f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: "a.jsonl", Purpose: "batch", Data: strings.NewReader("x")})
	if err != nil {
		t.Fatalf("CreateFile, first of 1: %v", err)
	}
	_, err = f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: "a.jsonl", Purpose: "batch", Data: untouched{t}})
	wantCode(t, err, silo.EQUOTA, "")

	// A completion needs room for its File; the Upload waits, pending.
	_, err = f.svc.CompleteUpload(f.ctx, u.ID, []string{p.ID}, "")
	wantCode(t, err, silo.EQUOTA, "")
	if !strings.Contains(silo.ErrorMessage(err), "1 of its 1 files (--quota-files)") {
		t.Errorf("message: %q", silo.ErrorMessage(err))
	}
	if err := f.svc.DeleteFile(f.ctx, file.ID); err != nil {
		t.Fatalf("DeleteFile: %v", err)
	}
	if _, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{p.ID}, ""); err != nil {
		t.Fatalf("CompleteUpload once a file was deleted: %v", err)
	}
	if _, err := f.svc.CreateUpload(f.ctx, &silo.UploadCreate{Filename: "b.jsonl", Purpose: "batch", Bytes: 1, MimeType: "text/plain"}); err != nil {
		t.Errorf("CreateUpload once the pending one completed: %v", err)
	}
}

// TestService_QuotaExpiry checks that the reaper frees what expired uploads
// and files held.
func TestService_QuotaExpiry(t *testing.T) {
	f := withQuota(t, silo.Quota{Bytes: 4, PendingUploads: 1})
	u := f.upload(t, 4)
	f.part(t, u.ID, []byte("abcd"))
	_, err := f.svc.CreateUpload(f.ctx, &silo.UploadCreate{Filename: "b.jsonl", Purpose: "batch", Bytes: 1, MimeType: "text/plain"})
	wantCode(t, err, silo.EQUOTA, "")
	f.clock.Add(silo.DefaultUploadTTL)
	if _, err := f.reap(); err != nil {
		t.Fatalf("reap: %v", err)
	}
	f.wantUsage(t, "after the upload expired", silo.Usage{})
	if _, err := f.svc.CreateUpload(f.ctx, &silo.UploadCreate{Filename: "b.jsonl", Purpose: "batch", Bytes: 1, MimeType: "text/plain"}); err != nil {
		t.Errorf("CreateUpload once the pending one expired: %v", err)
	}
}
