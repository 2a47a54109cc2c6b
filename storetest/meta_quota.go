package storetest

import (
	"strings"
	"sync"

	"github.com/silo-dev/silo"
)

// usage returns the stored usage of project ("" for the sum of all).
func (f *metaFixture) usage(project string) silo.Usage {
	f.Helper()
	u, err := f.s.Usage(f.ctx, project)
	if err != nil {
		f.Fatalf("Usage(%q): %v", project, err)
	}
	return u
}

// wantUsage fails the test unless the usage of project is want.
func (f *metaFixture) wantUsage(what, project string, want silo.Usage) {
	f.Helper()
	if got := f.usage(project); got != want {
		f.Errorf("Usage(%q) %s: got %+v, want %+v", project, what, got, want)
	}
}

// wantQuotaError fails the test unless err is EQUOTA, with no param, and a
// message that contains each of parts.
func (f *metaFixture) wantQuotaError(what string, err error, parts ...string) {
	f.Helper()
	f.wantError(what, err, silo.EQUOTA, "")
	for _, p := range parts {
		if !strings.Contains(silo.ErrorMessage(err), p) {
			f.Errorf("%s: message %q does not say %q", what, silo.ErrorMessage(err), p)
		}
	}
}

// testUsage checks the usage after each kind of change, and that changes
// refused change nothing.
func testUsage(f *metaFixture) {
	f.wantUsage("of an empty store", "proj", silo.Usage{})
	f.wantUsage("of an empty store", "", silo.Usage{})

	u := f.upload("proj")
	f.wantUsage("after CreateUpload", "proj", silo.Usage{PendingUploads: 1})
	p1, p2, p3 := f.part(u, 10, 1), f.part(u, 20, 2), f.part(u, 30, 3)
	f.wantUsage("after three AddPart", "proj", silo.Usage{Bytes: 60, PendingUploads: 1})
	c := f.completion(u, p1, p3)
	if _, err := f.s.CompleteUpload(f.ctx, c); err != nil {
		f.Fatalf("CompleteUpload: %v", err)
	}
	f.wantUsage("after CompleteUpload without the part of 20", "proj", silo.Usage{Bytes: 40, Files: 1})
	_, err := f.s.CompleteUpload(f.ctx, c)
	f.wantCode("CompleteUpload again", err, silo.EUPLOADCOMPLETED)
	f.wantCode("AddPart after CompleteUpload", f.s.AddPart(f.ctx, f.newPart(u, 5, 4), metaT0, metaNoLimits, silo.Quota{}), silo.EUPLOADCOMPLETED)
	_, err = f.s.CancelUpload(f.ctx, "proj", u.ID, metaT0)
	f.wantCode("CancelUpload after CompleteUpload", err, silo.EUPLOADCOMPLETED)
	f.wantUsage("after refused changes", "proj", silo.Usage{Bytes: 40, Files: 1})
	_ = p2

	v := f.upload("proj")
	f.part(v, 5, 1)
	f.wantUsage("after another upload and part", "proj", silo.Usage{Bytes: 45, Files: 1, PendingUploads: 1})
	if _, err := f.s.CancelUpload(f.ctx, "proj", v.ID, metaT0); err != nil {
		f.Fatalf("CancelUpload: %v", err)
	}
	f.wantUsage("after CancelUpload", "proj", silo.Usage{Bytes: 40, Files: 1})

	w := f.upload("proj")
	f.part(w, 7, 1)
	f.wantUsage("after a third upload and part", "proj", silo.Usage{Bytes: 47, Files: 1, PendingUploads: 1})
	if n, err := f.s.ExpireUploads(f.ctx, metaFar, 10); err != nil || n != 1 {
		f.Fatalf("ExpireUploads: got %d, %v; want 1", n, err)
	}
	f.wantUsage("after ExpireUploads", "proj", silo.Usage{Bytes: 40, Files: 1})

	kept := f.file("proj", "assistants", 0)             // 10 bytes
	gone := f.file("proj", "batch", metaT0.Unix()+3600) // 10 bytes
	f.wantUsage("after two CreateFile", "proj", silo.Usage{Bytes: 60, Files: 3})
	if err := f.s.DeleteFile(f.ctx, "proj", kept.ID, metaT0); err != nil {
		f.Fatalf("DeleteFile: %v", err)
	}
	f.wantCode("DeleteFile again", f.s.DeleteFile(f.ctx, "proj", kept.ID, metaT0), silo.ENOTFOUND)
	f.wantUsage("after DeleteFile", "proj", silo.Usage{Bytes: 50, Files: 2})
	if n, err := f.s.ExpireFiles(f.ctx, metaFar, 10); err != nil || n != 1 {
		f.Fatalf("ExpireFiles: got %d, %v; want 1", n, err)
	}
	f.wantUsage("after ExpireFiles of "+gone.ID, "proj", silo.Usage{Bytes: 40, Files: 1})

	f.wantUsage("of a project with nothing", "other", silo.Usage{})
	o := f.upload("other")
	f.part(o, 3, 1)
	f.file("other", "batch", 0)
	f.wantUsage("of another project", "other", silo.Usage{Bytes: 13, Files: 1, PendingUploads: 1})
	f.wantUsage("after another project's changes", "proj", silo.Usage{Bytes: 40, Files: 1})
	f.wantUsage("summed over projects", "", silo.Usage{Bytes: 53, Files: 2, PendingUploads: 1})
}

// testQuotaRefusals checks each quota at its limit: what fits is taken, what
// does not is refused with EQUOTA and records nothing, and what frees room is
// never refused, even over a quota.
func testQuotaRefusals(f *metaFixture) {
	pending := silo.Quota{PendingUploads: 2}
	a, b, c := f.newUpload("proj"), f.newUpload("proj"), f.newUpload("proj")
	f.wantCode("CreateUpload, first of 2", f.s.CreateUpload(f.ctx, a, pending), "")
	f.wantCode("CreateUpload, second of 2", f.s.CreateUpload(f.ctx, b, pending), "")
	f.wantQuotaError("CreateUpload, third of 2", f.s.CreateUpload(f.ctx, c, pending),
		"2 of its 2 pending uploads", "--quota-pending-uploads")
	_, err := f.s.GetUpload(f.ctx, "proj", c.ID)
	f.wantCode("GetUpload of the refused upload", err, silo.ENOTFOUND)
	f.wantCode("CreateUpload of another project", f.s.CreateUpload(f.ctx, f.newUpload("other"), pending), "")

	bytes := silo.Quota{Bytes: 100}
	f.wantCode("AddPart of 60 in 100", f.s.AddPart(f.ctx, f.newPart(a, 60, 1), metaT0, metaNoLimits, bytes), "")
	over := f.newPart(b, 41, 2)
	f.wantQuotaError("AddPart of 41 more", f.s.AddPart(f.ctx, over, metaT0, metaNoLimits, bytes),
		"stores 60 of its 100 bytes (--quota-bytes), and 41 more")
	f.wantCode("AddPart of 40 more, up to the quota", f.s.AddPart(f.ctx, f.newPart(b, 40, 3), metaT0, metaNoLimits, bytes), "")
	f.wantQuotaError("AddPart of 1 more", f.s.AddPart(f.ctx, f.newPart(b, 1, 4), metaT0, metaNoLimits, bytes),
		"stores 100 of its 100 bytes (--quota-bytes)")
	f.wantCode("AddPart of 0 bytes at the quota", f.s.AddPart(f.ctx, f.newPart(b, 0, 5), metaT0, metaNoLimits, bytes), "")
	parts, err := f.s.ListParts(f.ctx, "proj", b.ID)
	if err != nil || len(parts) != 2 {
		f.Errorf("ListParts: got %d parts, %v; want the 2 that fit", len(parts), err)
	}
	if k := f.known(over.BlobKey); k[over.BlobKey] {
		f.Errorf("KnownBlobs: the refused part's blob %s is known", over.BlobKey)
	}
	file := f.newFile("proj", "batch", 0, silo.BlobRef{Key: "files/x", Size: 1})
	f.wantQuotaError("CreateFile over the bytes", f.s.CreateFile(f.ctx, file, bytes), "100 of its 100 bytes")
	_, err = f.s.GetFile(f.ctx, "proj", file.ID, metaT0)
	f.wantCode("GetFile of the refused file", err, silo.ENOTFOUND)
	f.wantUsage("after the refusals", "proj", silo.Usage{Bytes: 100, PendingUploads: 2})

	// One File in the project: a completion needs room for another.
	files := silo.Quota{Files: 1}
	if err := f.s.CreateFile(f.ctx, f.newFile("proj", "batch", 0, silo.BlobRef{Key: "files/y", Size: 5}), files); err != nil {
		f.Fatalf("CreateFile, first of 1: %v", err)
	}
	f.wantQuotaError("CreateFile, second of 1", f.s.CreateFile(f.ctx, f.newFile("proj", "batch", 0), files),
		"1 of its 1 files (--quota-files)")
	aParts, err := f.s.ListParts(f.ctx, "proj", a.ID)
	if err != nil {
		f.Fatalf("ListParts: %v", err)
	}
	comp := f.completion(a, aParts...)
	comp.Quota = files
	got, err := f.s.CompleteUpload(f.ctx, comp)
	f.wantQuotaError("CompleteUpload, second File of 1", err, "1 of its 1 files")
	if got != nil {
		f.Errorf("CompleteUpload refused: got Upload %+v, want none", got)
	}
	if again, err := f.s.GetUpload(f.ctx, "proj", a.ID); err != nil || again.Status != silo.StatusPending {
		f.Errorf("GetUpload after the refused completion: got %v, %v; want it pending", again, err)
	}
	if still, err := f.s.ListParts(f.ctx, "proj", a.ID); err != nil || len(still) != 1 {
		f.Errorf("ListParts after the refused completion: got %d, %v; want the part kept", len(still), err)
	}

	// Over every quota at once, what frees room still goes through.
	tight := silo.Quota{Bytes: 1, Files: 1, PendingUploads: 1}
	comp.Quota = silo.Quota{Bytes: 1, PendingUploads: 1}
	if _, err := f.s.CompleteUpload(f.ctx, comp); err != nil {
		f.Errorf("CompleteUpload that adds no bytes, over the bytes quota: %v", err)
	}
	if _, err := f.s.CancelUpload(f.ctx, "proj", b.ID, metaT0); err != nil {
		f.Errorf("CancelUpload over the quota: %v", err)
	}
	f.wantUsage("after completing and cancelling", "proj", silo.Usage{Bytes: 65, Files: 2})
	f.wantQuotaError("AddPart over a lowered quota", f.s.AddPart(f.ctx, f.newPart(f.upload("proj"), 1, 1), metaT0, metaNoLimits, tight),
		"65 of its 1 bytes")
	if err := f.s.DeleteFile(f.ctx, "proj", comp.File.ID, metaT0); err != nil {
		f.Errorf("DeleteFile over the quota: %v", err)
	}
	f.wantUsage("after DeleteFile", "proj", silo.Usage{Bytes: 5, Files: 1, PendingUploads: 1})
}

// testRaceQuota checks that changes made in parallel never take a project
// past its quota: the check and the change are one compare-and-set, across
// the Uploads of the project and across kinds of change.
func testRaceQuota(f *metaFixture) {
	const n = 32
	run := func(what string, fn func(i int) error) int {
		f.Helper()
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = fn(i)
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch silo.ErrorCode(err) {
			case "":
				ok++
			case silo.EQUOTA:
			default:
				f.Errorf("%s in parallel: got %v, want success or %s", what, err, silo.EQUOTA)
			}
		}
		return ok
	}

	pending := silo.Quota{PendingUploads: 5}
	if ok := run("CreateUpload", func(int) error { return f.s.CreateUpload(f.ctx, f.newUpload("proj"), pending) }); ok != 5 {
		f.Errorf("CreateUpload in parallel under a quota of 5: %d succeeded", ok)
	}
	f.wantUsage("after CreateUpload in parallel", "proj", silo.Usage{PendingUploads: 5})

	// Parts of 10 bytes to 4 Uploads, and Files of 10 bytes, against 100 bytes.
	bytes := silo.Quota{Bytes: 100}
	uploads := []*silo.Upload{f.upload("bytes"), f.upload("bytes"), f.upload("bytes"), f.upload("bytes")}
	ok := run("AddPart and CreateFile", func(i int) error {
		if i%4 == 3 {
			return f.s.CreateFile(f.ctx, f.newFile("bytes", "batch", 0, silo.BlobRef{Key: "files/" + silo.NewID(""), Size: 10}), bytes)
		}
		return f.s.AddPart(f.ctx, f.newPart(uploads[i%4], 10, int64(i)), metaT0, metaNoLimits, bytes)
	})
	if ok != 10 {
		f.Errorf("AddPart and CreateFile of 10 bytes in parallel under a quota of 100: %d succeeded, want 10", ok)
	}
	if got := f.usage("bytes"); got.Bytes != 100 {
		f.Errorf("Usage after AddPart and CreateFile in parallel: got %+v, want 100 bytes", got)
	}

	files := silo.Quota{Files: 3}
	if ok := run("CreateFile", func(int) error {
		return f.s.CreateFile(f.ctx, f.newFile("files", "batch", 0), files)
	}); ok != 3 {
		f.Errorf("CreateFile in parallel under a quota of 3: %d succeeded", ok)
	}
	list, err := f.s.ListFiles(f.ctx, "files", silo.FileQuery{Limit: 100, Order: "asc"}, metaT0)
	if err != nil || len(list.Files) != 3 {
		f.Errorf("ListFiles after CreateFile in parallel: got %v, %v; want 3 files", list, err)
	}
	f.wantUsage("after CreateFile in parallel", "files", silo.Usage{Files: 3})
}
