package storetest

import (
	"strconv"
	"strings"
	"time"

	"github.com/silo-dev/silo"
)

func testCreateGetUpload(f *metaFixture) {
	u := f.newUpload("proj")
	u.FileExpiresAfter = 7200
	if err := f.s.CreateUpload(f.ctx, u, silo.Quota{}); err != nil {
		f.Fatalf("CreateUpload: %v", err)
	}
	got, err := f.s.GetUpload(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("GetUpload: %v", err)
	}
	f.wantUpload("GetUpload", got, u)
}

func testGetUploadNotFound(f *metaFixture) {
	_, err := f.s.GetUpload(f.ctx, "proj", silo.NewID(silo.UploadIDPrefix))
	f.wantCode("GetUpload of an unknown id", err, silo.ENOTFOUND)
}

// testUploadCopies checks that the store keeps its own copies: changing what
// went in or came out must not change what is stored.
func testUploadCopies(f *metaFixture) {
	u := f.upload("proj")
	want := *u
	u.Filename = "changed after create"
	got, err := f.s.GetUpload(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("GetUpload: %v", err)
	}
	f.wantUpload("GetUpload after changing the created Upload", got, &want)
	got.Filename = "changed after get"
	got, err = f.s.GetUpload(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("GetUpload: %v", err)
	}
	f.wantUpload("GetUpload after changing a returned Upload", got, &want)

	p := f.part(&want, 10, 1)
	done, err := f.s.CompleteUpload(f.ctx, f.completion(&want, p))
	if err != nil {
		f.Fatalf("CompleteUpload: %v", err)
	}
	wantDone := *done
	wantFile := *done.File
	wantFile.Blobs = append([]silo.BlobRef(nil), done.File.Blobs...)
	wantDone.File = &wantFile
	wantDone.PartIDs = append([]string(nil), done.PartIDs...)
	done.PartIDs[0] = "part_changed"
	done.File.Blobs[0].Key = "changed"
	done.File.Filename = "changed"
	got, err = f.s.GetUpload(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("GetUpload: %v", err)
	}
	f.wantUpload("GetUpload after changing a completed Upload", got, &wantDone)
}

// testProjectIsolation checks that every method taking a project treats a
// record of another project as unknown, and changes nothing.
func testProjectIsolation(f *metaFixture) {
	u := f.upload("a")
	p := f.part(u, 10, 1)
	file := f.file("a", "batch", 0)
	const other = "b"

	_, err := f.s.GetUpload(f.ctx, other, u.ID)
	f.wantCode("GetUpload", err, silo.ENOTFOUND)
	q := f.newPart(u, 10, 2)
	q.Project = other
	f.wantCode("AddPart", f.s.AddPart(f.ctx, q, metaT0, metaNoLimits, silo.Quota{}), silo.ENOTFOUND)
	_, err = f.s.ListParts(f.ctx, other, u.ID)
	f.wantCode("ListParts", err, silo.ENOTFOUND)
	c := f.completion(u, p)
	c.Project = other
	c.File.Project = other
	_, err = f.s.CompleteUpload(f.ctx, c)
	f.wantCode("CompleteUpload", err, silo.ENOTFOUND)
	_, err = f.s.CancelUpload(f.ctx, other, u.ID, metaT0)
	f.wantCode("CancelUpload", err, silo.ENOTFOUND)
	_, err = f.s.GetFile(f.ctx, other, file.ID, metaT0)
	f.wantCode("GetFile", err, silo.ENOTFOUND)
	f.wantCode("DeleteFile", f.s.DeleteFile(f.ctx, other, file.ID, metaT0), silo.ENOTFOUND)
	list, err := f.s.ListFiles(f.ctx, other, silo.FileQuery{Limit: 10, Order: "asc"}, metaT0)
	if err != nil {
		f.Fatalf("ListFiles: %v", err)
	}
	if got := metaIDs(list.Files); got != "" || list.HasMore {
		f.Errorf("ListFiles of another project: got %q has_more %v, want nothing", got, list.HasMore)
	}
	_, err = f.s.ListFiles(f.ctx, other, silo.FileQuery{Limit: 10, Order: "asc", After: file.ID}, metaT0)
	f.wantError("ListFiles after a file of another project", err, silo.EINVALID, "after")

	got, err := f.s.GetUpload(f.ctx, "a", u.ID)
	if err != nil {
		f.Fatalf("GetUpload of the owner: %v", err)
	}
	f.wantUpload("GetUpload of the owner", got, u)
	parts, err := f.s.ListParts(f.ctx, "a", u.ID)
	if err != nil {
		f.Fatalf("ListParts of the owner: %v", err)
	}
	if len(parts) != 1 || parts[0].ID != p.ID {
		f.Errorf("ListParts of the owner: got %d parts, want just %s", len(parts), p.ID)
	}
	if _, err := f.s.GetFile(f.ctx, "a", file.ID, metaT0); err != nil {
		f.Errorf("GetFile of the owner: %v", err)
	}
	if k := f.known(p.BlobKey, q.BlobKey); !k[p.BlobKey] || k[q.BlobKey] {
		f.Errorf("KnownBlobs: got %v, want only the owner's part %s", k, p.BlobKey)
	}
	if g := f.garbage(); len(g) != 0 {
		f.Errorf("garbage: got %v, want none", g)
	}
}

func testAddPart(f *metaFixture) {
	u := f.upload("proj")
	p := f.newPart(u, 10, 1)
	if err := f.s.AddPart(f.ctx, p, metaT0, metaBytes100, silo.Quota{}); err != nil {
		f.Fatalf("AddPart: %v", err)
	}
	parts, err := f.s.ListParts(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("ListParts: %v", err)
	}
	if len(parts) != 1 || *parts[0] != *p {
		f.Fatalf("ListParts: got %v, want just %+v", parts, *p)
	}
	if k := f.known(p.BlobKey); !k[p.BlobKey] {
		f.Errorf("KnownBlobs(%s): got false, want true for a recorded part", p.BlobKey)
	}

	q := f.newPart(u, 10, 2)
	q.UploadID = silo.NewID(silo.UploadIDPrefix)
	f.wantCode("AddPart to an unknown upload", f.s.AddPart(f.ctx, q, metaT0, metaBytes100, silo.Quota{}), silo.ENOTFOUND)
	if k := f.known(q.BlobKey); k[q.BlobKey] {
		f.Errorf("KnownBlobs(%s): got true, want false for a part that was refused", q.BlobKey)
	}
}

// testAddPartExpiry checks that an Upload takes parts up to the second before
// expires_at and none from expires_at on.
func testAddPartExpiry(f *metaFixture) {
	u := f.upload("proj")
	exp := time.Unix(u.ExpiresAt, 0)
	last := exp.Add(-time.Nanosecond)
	if err := f.s.AddPart(f.ctx, f.newPart(u, 1, 1), last, metaBytes100, silo.Quota{}); err != nil {
		f.Errorf("AddPart a nanosecond before expires_at: %v", err)
	}
	p := f.newPart(u, 1, 2)
	f.wantError("AddPart at expires_at", f.s.AddPart(f.ctx, p, exp, metaBytes100, silo.Quota{}), silo.EUPLOADEXPIRED, "")
	f.wantCode("AddPart after expires_at", f.s.AddPart(f.ctx, f.newPart(u, 1, 3), exp.Add(time.Hour), metaBytes100, silo.Quota{}), silo.EUPLOADEXPIRED)
	if k := f.known(p.BlobKey); k[p.BlobKey] {
		f.Errorf("KnownBlobs(%s): got true, want false for a part refused as expired", p.BlobKey)
	}
}

// testAddPartLimit checks that the recorded parts may add up to the limit and
// not beyond.
func testAddPartLimit(f *metaFixture) {
	u := f.upload("proj")
	for i, size := range []int64{60, 40} {
		if err := f.s.AddPart(f.ctx, f.newPart(u, size, int64(i)), metaT0, metaBytes100, silo.Quota{}); err != nil {
			f.Fatalf("AddPart of %d bytes within the limit: %v", size, err)
		}
	}
	p := f.newPart(u, 1, 9)
	f.wantTooLarge("AddPart past the limit", f.s.AddPart(f.ctx, p, metaT0, metaBytes100, silo.Quota{}), "bytes", "100")
	if k := f.known(p.BlobKey); k[p.BlobKey] {
		f.Errorf("KnownBlobs(%s): got true, want false for a part refused as too large", p.BlobKey)
	}
	parts, err := f.s.ListParts(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("ListParts: %v", err)
	}
	if len(parts) != 2 {
		f.Errorf("ListParts: got %d parts, want 2", len(parts))
	}
	if err := f.s.AddPart(f.ctx, f.newPart(u, 0, 10), metaT0, metaBytes100, silo.Quota{}); err != nil {
		f.Errorf("AddPart of 0 bytes at the limit: %v", err)
	}
}

// wantTooLarge fails the test unless err is EUPLOADTOOLARGE with param "data"
// and a message that names the limit: it holds each of words.
func (f *metaFixture) wantTooLarge(what string, err error, words ...string) {
	f.Helper()
	f.wantError(what, err, silo.EUPLOADTOOLARGE, "data")
	msg := silo.ErrorMessage(err)
	for _, w := range words {
		if !strings.Contains(msg, w) {
			f.Errorf("%s: message %q does not name the limit: want %q in it", what, msg, w)
		}
	}
}

// testAddPartCount checks that an Upload takes exactly max.Count parts,
// however small, and refuses the next, while another Upload still takes its
// own.
func testAddPartCount(f *metaFixture) {
	const count = 7
	max := silo.PartLimits{Bytes: silo.MaxUploadBytes, Count: count}
	u := f.upload("proj")
	for i := range count {
		if err := f.s.AddPart(f.ctx, f.newPart(u, int64(i%2), int64(i)), metaT0, max, silo.Quota{}); err != nil {
			f.Fatalf("AddPart %d of %d: %v", i+1, count, err)
		}
	}
	p := f.newPart(u, 0, count)
	f.wantTooLarge("AddPart past the count", f.s.AddPart(f.ctx, p, metaT0, max, silo.Quota{}), "parts", strconv.Itoa(count))
	if k := f.known(p.BlobKey); k[p.BlobKey] {
		f.Errorf("KnownBlobs(%s): got true, want false for a part refused as one too many", p.BlobKey)
	}
	parts, err := f.s.ListParts(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("ListParts: %v", err)
	}
	if len(parts) != count {
		f.Errorf("ListParts: got %d parts, want %d", len(parts), count)
	}
	// A higher count takes one more: the limit is the caller's, per call.
	if err := f.s.AddPart(f.ctx, p, metaT0, silo.PartLimits{Bytes: silo.MaxUploadBytes, Count: count + 1}, silo.Quota{}); err != nil {
		f.Errorf("AddPart within a higher count: %v", err)
	}
	other := f.upload("proj")
	if err := f.s.AddPart(f.ctx, f.newPart(other, 1, 1), metaT0, max, silo.Quota{}); err != nil {
		f.Errorf("AddPart to another upload: %v; the count is per upload", err)
	}
}

// testAddPartCountAndBytes checks that both limits hold at once: a part that
// fits the count but not the bytes is refused, and the refusal names the
// bytes; then one that fits the bytes but not the count names the parts.
func testAddPartCountAndBytes(f *metaFixture) {
	max := silo.PartLimits{Bytes: 100, Count: 2}
	u := f.upload("proj")
	if err := f.s.AddPart(f.ctx, f.newPart(u, 90, 1), metaT0, max, silo.Quota{}); err != nil {
		f.Fatalf("AddPart: %v", err)
	}
	big := f.newPart(u, 11, 2)
	f.wantTooLarge("AddPart past the bytes", f.s.AddPart(f.ctx, big, metaT0, max, silo.Quota{}), "bytes", "100")
	if err := f.s.AddPart(f.ctx, f.newPart(u, 10, 3), metaT0, max, silo.Quota{}); err != nil {
		f.Fatalf("AddPart up to both limits: %v", err)
	}
	small := f.newPart(u, 0, 4)
	f.wantTooLarge("AddPart past the count", f.s.AddPart(f.ctx, small, metaT0, max, silo.Quota{}), "parts", "2")
	if k := f.known(big.BlobKey, small.BlobKey); k[big.BlobKey] || k[small.BlobKey] {
		f.Errorf("KnownBlobs: got %v, want neither refused part", k)
	}
	parts, err := f.s.ListParts(f.ctx, "proj", u.ID)
	if err != nil || len(parts) != 2 {
		f.Errorf("ListParts: got %d parts, %v; want 2", len(parts), err)
	}
}

// testAddPartNotPending checks the error for each status that is not pending.
func testAddPartNotPending(f *metaFixture) {
	completed := f.upload("proj")
	if _, err := f.s.CompleteUpload(f.ctx, f.completion(completed, f.part(completed, 1, 1))); err != nil {
		f.Fatalf("CompleteUpload: %v", err)
	}
	cancelled := f.upload("proj")
	if _, err := f.s.CancelUpload(f.ctx, "proj", cancelled.ID, metaT0); err != nil {
		f.Fatalf("CancelUpload: %v", err)
	}
	expired := f.upload("proj")
	if _, err := f.s.ExpireUploads(f.ctx, time.Unix(expired.ExpiresAt, 0), 10); err != nil {
		f.Fatalf("ExpireUploads: %v", err)
	}
	for _, tc := range []struct {
		u    *silo.Upload
		code string
	}{
		{completed, silo.EUPLOADCOMPLETED},
		{cancelled, silo.EUPLOADCANCELLED},
		{expired, silo.EUPLOADEXPIRED},
	} {
		p := f.newPart(tc.u, 1, 5)
		f.wantError("AddPart to an upload that is not pending", f.s.AddPart(f.ctx, p, metaT0, metaBytes100, silo.Quota{}), tc.code, "")
		if k := f.known(p.BlobKey); k[p.BlobKey] {
			f.Errorf("KnownBlobs(%s): got true, want false for a part refused with %s", p.BlobKey, tc.code)
		}
	}
}

// testListParts checks the order (Started, ID), whatever the order of arrival.
func testListParts(f *metaFixture) {
	u := f.upload("proj")
	var want []*silo.Part
	for _, started := range []int64{30, 10, 20, 10, 10} {
		p := f.newPart(u, 1, started)
		want = append(want, p)
	}
	// Give the parts that start together ids in a known order, then record
	// them out of it.
	want[1].ID, want[3].ID, want[4].ID = "part_b", "part_c", "part_a"
	for _, p := range want {
		if err := f.s.AddPart(f.ctx, p, metaT0, metaBytes100, silo.Quota{}); err != nil {
			f.Fatalf("AddPart: %v", err)
		}
	}
	order := []int{4, 1, 3, 2, 0}
	parts, err := f.s.ListParts(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("ListParts: %v", err)
	}
	if len(parts) != len(order) {
		f.Fatalf("ListParts: got %d parts, want %d", len(parts), len(order))
	}
	for i, j := range order {
		if *parts[i] != *want[j] {
			f.Errorf("ListParts[%d]: got %+v, want %+v", i, *parts[i], *want[j])
		}
	}
	_, err = f.s.ListParts(f.ctx, "proj", silo.NewID(silo.UploadIDPrefix))
	f.wantCode("ListParts of an unknown upload", err, silo.ENOTFOUND)
	empty := f.upload("proj")
	parts, err = f.s.ListParts(f.ctx, "proj", empty.ID)
	if err != nil || len(parts) != 0 {
		f.Errorf("ListParts of an upload without parts: got %d parts, %v; want none", len(parts), err)
	}
}
