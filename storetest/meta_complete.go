package storetest

import (
	"time"

	"github.com/silo-dev/silo"
)

// metaCompleted returns what u looks like once c completed it.
func metaCompleted(u *silo.Upload, c *silo.Completion) *silo.Upload {
	want := *u
	want.Status = silo.StatusCompleted
	want.PartIDs = c.PartIDs
	want.MD5 = c.MD5
	file := *c.File
	want.File = &file
	return &want
}

func testCompleteUpload(f *metaFixture) {
	u := f.upload("proj")
	p1, p2, p3 := f.part(u, 30, 1), f.part(u, 50, 2), f.part(u, 20, 3)
	c := f.completion(u, p3, p1)
	got, err := f.s.CompleteUpload(f.ctx, c)
	if err != nil {
		f.Fatalf("CompleteUpload: %v", err)
	}
	want := metaCompleted(u, c)
	f.wantUpload("CompleteUpload", got, want)
	got, err = f.s.GetUpload(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("GetUpload: %v", err)
	}
	f.wantUpload("GetUpload after CompleteUpload", got, want)
	file, err := f.s.GetFile(f.ctx, "proj", c.File.ID, metaT0)
	if err != nil {
		f.Fatalf("GetFile of the completed upload's file: %v", err)
	}
	f.wantFile("GetFile", file, c.File)
	list, err := f.s.ListFiles(f.ctx, "proj", silo.FileQuery{Limit: 10, Order: "asc"}, metaT0)
	if err != nil {
		f.Fatalf("ListFiles: %v", err)
	}
	if got, want := metaIDs(list.Files), c.File.ID; got != want {
		f.Errorf("ListFiles: got %q, want %q", got, want)
	}

	parts, err := f.s.ListParts(f.ctx, "proj", u.ID)
	if err != nil || len(parts) != 0 {
		f.Errorf("ListParts after CompleteUpload: got %d parts, %v; want none", len(parts), err)
	}
	if k := f.known(p1.BlobKey, p2.BlobKey, p3.BlobKey); !k[p1.BlobKey] || !k[p2.BlobKey] || !k[p3.BlobKey] {
		f.Errorf("KnownBlobs after CompleteUpload: got %v, want all three parts (file blobs and garbage)", k)
	}
	if g := f.garbage(); len(g) != 1 || !g[p2.BlobKey] {
		f.Errorf("garbage after CompleteUpload: got %v, want just the unlisted part %s", g, p2.BlobKey)
	}
}

// testCompleteUploadAgain checks that a completed Upload is never completed
// twice: the store answers with what it stored and EUPLOADCOMPLETED, and
// whether that is a success for the client is the service's call.
func testCompleteUploadAgain(f *metaFixture) {
	u := f.upload("proj")
	p := f.part(u, 100, 1)
	c1 := f.completion(u, p)
	first, err := f.s.CompleteUpload(f.ctx, c1)
	if err != nil {
		f.Fatalf("CompleteUpload: %v", err)
	}
	for _, c := range []*silo.Completion{f.completion(u, p), c1} {
		got, err := f.s.CompleteUpload(f.ctx, c)
		f.wantError("CompleteUpload again", err, silo.EUPLOADCOMPLETED, "")
		f.wantUpload("CompleteUpload again", got, first)
		if c != c1 {
			_, err := f.s.GetFile(f.ctx, "proj", c.File.ID, metaT0)
			f.wantCode("GetFile of the second completion's file", err, silo.ENOTFOUND)
		}
	}
	list, err := f.s.ListFiles(f.ctx, "proj", silo.FileQuery{Limit: 10, Order: "asc"}, metaT0)
	if err != nil {
		f.Fatalf("ListFiles: %v", err)
	}
	if got, want := metaIDs(list.Files), c1.File.ID; got != want {
		f.Errorf("ListFiles after completing twice: got %q, want only %q", got, want)
	}
	if g := f.garbage(); len(g) != 0 {
		f.Errorf("garbage: got %v, want none", g)
	}
}

func testCompleteUploadNotPending(f *metaFixture) {
	cancelled := f.upload("proj")
	if _, err := f.s.CancelUpload(f.ctx, "proj", cancelled.ID, metaT0); err != nil {
		f.Fatalf("CancelUpload: %v", err)
	}
	got, err := f.s.CompleteUpload(f.ctx, f.completion(cancelled))
	f.wantError("CompleteUpload of a cancelled upload", err, silo.EUPLOADCANCELLED, "")
	if got == nil || got.ID != cancelled.ID || got.Status != silo.StatusCancelled || got.File != nil {
		f.Errorf("CompleteUpload of a cancelled upload: got %s, want the upload, cancelled", metaUploadString(got))
	}

	// Expired by time alone: nothing is changed, not even the status.
	u := f.upload("proj")
	p := f.part(u, 100, 1)
	c := f.completion(u, p)
	c.Now = time.Unix(u.ExpiresAt, 0)
	got, err = f.s.CompleteUpload(f.ctx, c)
	f.wantError("CompleteUpload at expires_at", err, silo.EUPLOADEXPIRED, "")
	f.wantUpload("CompleteUpload at expires_at", got, u)
	_, err = f.s.GetFile(f.ctx, "proj", c.File.ID, metaT0)
	f.wantCode("GetFile of a refused completion's file", err, silo.ENOTFOUND)
	if parts, err := f.s.ListParts(f.ctx, "proj", u.ID); err != nil || len(parts) != 1 {
		f.Errorf("ListParts after a refused completion: got %d parts, %v; want the 1 part", len(parts), err)
	}

	if _, err := f.s.ExpireUploads(f.ctx, c.Now, 10); err != nil {
		f.Fatalf("ExpireUploads: %v", err)
	}
	got, err = f.s.CompleteUpload(f.ctx, f.completion(u, p))
	f.wantError("CompleteUpload of an expired upload", err, silo.EUPLOADEXPIRED, "")
	if got == nil || got.Status != silo.StatusExpired {
		f.Errorf("CompleteUpload of an expired upload: got %s, want it expired", metaUploadString(got))
	}

	late := f.upload("proj")
	c = f.completion(late, f.part(late, 100, 1))
	c.Now = time.Unix(late.ExpiresAt, 0).Add(-time.Nanosecond)
	if _, err := f.s.CompleteUpload(f.ctx, c); err != nil {
		f.Errorf("CompleteUpload a nanosecond before expires_at: %v", err)
	}

	c = f.completion(f.newUpload("proj"))
	_, err = f.s.CompleteUpload(f.ctx, c)
	f.wantCode("CompleteUpload of an unknown upload", err, silo.ENOTFOUND)
}

func testCancelUpload(f *metaFixture) {
	u := f.upload("proj")
	p1, p2 := f.part(u, 10, 1), f.part(u, 20, 2)
	got, err := f.s.CancelUpload(f.ctx, "proj", u.ID, metaT0)
	if err != nil {
		f.Fatalf("CancelUpload: %v", err)
	}
	want := *u
	want.Status = silo.StatusCancelled
	f.wantUpload("CancelUpload", got, &want)
	got, err = f.s.GetUpload(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("GetUpload: %v", err)
	}
	f.wantUpload("GetUpload after CancelUpload", got, &want)
	if parts, err := f.s.ListParts(f.ctx, "proj", u.ID); err != nil || len(parts) != 0 {
		f.Errorf("ListParts after CancelUpload: got %d parts, %v; want none", len(parts), err)
	}
	if g := f.garbage(); len(g) != 2 || !g[p1.BlobKey] || !g[p2.BlobKey] {
		f.Errorf("garbage after CancelUpload: got %v, want both parts", g)
	}

	empty := f.upload("proj")
	if _, err := f.s.CancelUpload(f.ctx, "proj", empty.ID, metaT0); err != nil {
		f.Errorf("CancelUpload of an upload without parts: %v", err)
	}
}

func testCancelUploadNotPending(f *metaFixture) {
	cancelled := f.upload("proj")
	first, err := f.s.CancelUpload(f.ctx, "proj", cancelled.ID, metaT0)
	if err != nil {
		f.Fatalf("CancelUpload: %v", err)
	}
	got, err := f.s.CancelUpload(f.ctx, "proj", cancelled.ID, metaT0)
	f.wantError("CancelUpload again", err, silo.EUPLOADCANCELLED, "")
	f.wantUpload("CancelUpload again", got, first)

	u := f.upload("proj")
	done, err := f.s.CompleteUpload(f.ctx, f.completion(u, f.part(u, 100, 1)))
	if err != nil {
		f.Fatalf("CompleteUpload: %v", err)
	}
	got, err = f.s.CancelUpload(f.ctx, "proj", u.ID, metaT0)
	f.wantError("CancelUpload of a completed upload", err, silo.EUPLOADCOMPLETED, "")
	f.wantUpload("CancelUpload of a completed upload", got, done)

	u = f.upload("proj")
	p := f.part(u, 100, 1)
	exp := time.Unix(u.ExpiresAt, 0)
	got, err = f.s.CancelUpload(f.ctx, "proj", u.ID, exp)
	f.wantError("CancelUpload at expires_at", err, silo.EUPLOADEXPIRED, "")
	f.wantUpload("CancelUpload at expires_at", got, u)
	if k := f.known(p.BlobKey); !k[p.BlobKey] {
		f.Errorf("KnownBlobs(%s) after a refused cancel: got false, want true", p.BlobKey)
	}
	if g := f.garbage(); len(g) != 0 {
		f.Errorf("garbage after a refused cancel: got %v, want none", g)
	}
	if _, err := f.s.ExpireUploads(f.ctx, exp, 10); err != nil {
		f.Fatalf("ExpireUploads: %v", err)
	}
	got, err = f.s.CancelUpload(f.ctx, "proj", u.ID, metaT0)
	f.wantError("CancelUpload of an expired upload", err, silo.EUPLOADEXPIRED, "")
	if got == nil || got.Status != silo.StatusExpired {
		f.Errorf("CancelUpload of an expired upload: got %s, want it expired", metaUploadString(got))
	}

	_, err = f.s.CancelUpload(f.ctx, "proj", silo.NewID(silo.UploadIDPrefix), metaT0)
	f.wantCode("CancelUpload of an unknown upload", err, silo.ENOTFOUND)
}

// testExpireUploads checks that expiry takes only pending Uploads whose
// expires_at has come, at most n per call, and queues their parts as garbage.
func testExpireUploads(f *metaFixture) {
	var due []*silo.Upload
	var dueParts []*silo.Part
	for range 3 {
		u := f.upload("proj")
		due = append(due, u)
		dueParts = append(dueParts, f.part(u, 10, 1))
	}
	exp := time.Unix(due[0].ExpiresAt, 0)
	later := f.newUpload("proj")
	later.ExpiresAt = exp.Add(time.Hour).Unix()
	if err := f.s.CreateUpload(f.ctx, later, silo.Quota{}); err != nil {
		f.Fatalf("CreateUpload: %v", err)
	}
	laterPart := f.part(later, 10, 1)
	done := f.upload("proj")
	if _, err := f.s.CompleteUpload(f.ctx, f.completion(done, f.part(done, 100, 1))); err != nil {
		f.Fatalf("CompleteUpload: %v", err)
	}
	cancelled := f.upload("proj")
	if _, err := f.s.CancelUpload(f.ctx, "proj", cancelled.ID, metaT0); err != nil {
		f.Fatalf("CancelUpload: %v", err)
	}
	f.garbage() // forget the cancel's garbage, if any

	for _, tc := range []struct {
		now  time.Time
		want int
	}{{exp.Add(-time.Nanosecond), 0}, {exp, 2}, {exp, 1}, {exp, 0}} {
		n, err := f.s.ExpireUploads(f.ctx, tc.now, 2)
		if err != nil {
			f.Fatalf("ExpireUploads: %v", err)
		}
		if n != tc.want {
			f.Errorf("ExpireUploads(%v, 2): got %d, want %d", tc.now.Sub(exp), n, tc.want)
		}
	}
	for _, tc := range []struct {
		u    *silo.Upload
		want silo.UploadStatus
	}{{due[0], silo.StatusExpired}, {due[1], silo.StatusExpired}, {due[2], silo.StatusExpired},
		{later, silo.StatusPending}, {done, silo.StatusCompleted}, {cancelled, silo.StatusCancelled}} {
		got, err := f.s.GetUpload(f.ctx, "proj", tc.u.ID)
		if err != nil {
			f.Fatalf("GetUpload: %v", err)
		}
		if got.Status != tc.want {
			f.Errorf("GetUpload after ExpireUploads: got status %s, want %s", got.Status, tc.want)
		}
		parts, err := f.s.ListParts(f.ctx, "proj", tc.u.ID)
		if n := len(parts); err != nil || (tc.u == later) != (n == 1) || n > 1 {
			f.Errorf("ListParts of an upload %s: got %d parts, %v", tc.want, n, err)
		}
	}
	g := f.garbage()
	for _, p := range dueParts {
		if !g[p.BlobKey] {
			f.Errorf("garbage after ExpireUploads: %s missing", p.BlobKey)
		}
	}
	if len(g) != len(dueParts) || g[laterPart.BlobKey] {
		f.Errorf("garbage after ExpireUploads: got %d keys, want just the %d parts of the expired uploads", len(g), len(dueParts))
	}
}
