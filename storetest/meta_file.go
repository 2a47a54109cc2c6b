package storetest

import (
	"fmt"
	"time"

	"github.com/silo-dev/silo"
)

func testCreateGetFile(f *metaFixture) {
	file := f.newFile("proj", "assistants", 0,
		silo.BlobRef{Key: "files/b", Size: 7}, silo.BlobRef{Key: "files/a", Size: 5})
	if err := f.s.CreateFile(f.ctx, file, silo.Quota{}); err != nil {
		f.Fatalf("CreateFile: %v", err)
	}
	got, err := f.s.GetFile(f.ctx, "proj", file.ID, metaFar)
	if err != nil {
		f.Fatalf("GetFile: %v", err)
	}
	f.wantFile("GetFile", got, file)
	if k := f.known("files/a", "files/b", "files/c"); !k["files/a"] || !k["files/b"] || k["files/c"] {
		f.Errorf("KnownBlobs: got %v, want files/a and files/b only", k)
	}
	_, err = f.s.GetFile(f.ctx, "proj", silo.NewID(silo.FileIDPrefix), metaT0)
	f.wantCode("GetFile of an unknown id", err, silo.ENOTFOUND)

	empty := f.newFile("proj", "user_data", 0)
	if err := f.s.CreateFile(f.ctx, empty, silo.Quota{}); err != nil {
		f.Fatalf("CreateFile of an empty file: %v", err)
	}
	got, err = f.s.GetFile(f.ctx, "proj", empty.ID, metaT0)
	if err != nil {
		f.Fatalf("GetFile of an empty file: %v", err)
	}
	f.wantFile("GetFile of an empty file", got, empty)
}

// testFileExpiry checks that a File is gone from its expires_at second on,
// before anything deletes it.
func testFileExpiry(f *metaFixture) {
	exp := metaT0.Add(time.Hour)
	file := f.file("proj", "batch", exp.Unix())
	if _, err := f.s.GetFile(f.ctx, "proj", file.ID, exp.Add(-time.Nanosecond)); err != nil {
		f.Errorf("GetFile a nanosecond before expires_at: %v", err)
	}
	_, err := f.s.GetFile(f.ctx, "proj", file.ID, exp)
	f.wantCode("GetFile at expires_at", err, silo.ENOTFOUND)
	list, err := f.s.ListFiles(f.ctx, "proj", silo.FileQuery{Limit: 10, Order: "desc"}, exp)
	if err != nil {
		f.Fatalf("ListFiles: %v", err)
	}
	if len(list.Files) != 0 || list.HasMore {
		f.Errorf("ListFiles at expires_at: got %q has_more %v, want nothing", metaIDs(list.Files), list.HasMore)
	}
	f.wantCode("DeleteFile at expires_at", f.s.DeleteFile(f.ctx, "proj", file.ID, exp), silo.ENOTFOUND)
	if g := f.garbage(); len(g) != 0 {
		f.Errorf("garbage after a refused delete: got %v, want none", g)
	}
	if _, err := f.s.GetFile(f.ctx, "proj", file.ID, metaT0); err != nil {
		f.Errorf("GetFile before expires_at, after a refused delete: %v", err)
	}
}

// testFileCopies checks that the store keeps its own copy of a File.
func testFileCopies(f *metaFixture) {
	file := f.newFile("proj", "vision", 0, silo.BlobRef{Key: "files/a", Size: 5})
	if err := f.s.CreateFile(f.ctx, file, silo.Quota{}); err != nil {
		f.Fatalf("CreateFile: %v", err)
	}
	want := *file
	want.Blobs = []silo.BlobRef{file.Blobs[0]}
	file.Blobs[0].Key = "changed after create"
	file.Filename = "changed after create"
	got, err := f.s.GetFile(f.ctx, "proj", want.ID, metaT0)
	if err != nil {
		f.Fatalf("GetFile: %v", err)
	}
	f.wantFile("GetFile after changing the created File", got, &want)
	got.Blobs[0].Key = "changed after get"
	got, err = f.s.GetFile(f.ctx, "proj", want.ID, metaT0)
	if err != nil {
		f.Fatalf("GetFile: %v", err)
	}
	f.wantFile("GetFile after changing a returned File", got, &want)
	list, err := f.s.ListFiles(f.ctx, "proj", silo.FileQuery{Limit: 10, Order: "asc"}, metaT0)
	if err != nil || len(list.Files) != 1 {
		f.Fatalf("ListFiles: got %v, %v; want one file", list, err)
	}
	listed := want
	listed.Blobs = nil
	f.wantFile("ListFiles", list.Files[0], &listed)
	list.Files[0].Filename = "changed after list"
	got, err = f.s.GetFile(f.ctx, "proj", want.ID, metaT0)
	if err != nil {
		f.Fatalf("GetFile: %v", err)
	}
	f.wantFile("GetFile after changing a listed File", got, &want)
}

func testDeleteFile(f *metaFixture) {
	file := f.newFile("proj", "fine-tune", 0,
		silo.BlobRef{Key: "files/a", Size: 5}, silo.BlobRef{Key: "files/b", Size: 5})
	if err := f.s.CreateFile(f.ctx, file, silo.Quota{}); err != nil {
		f.Fatalf("CreateFile: %v", err)
	}
	keep := f.file("proj", "fine-tune", 0)
	if err := f.s.DeleteFile(f.ctx, "proj", file.ID, metaT0); err != nil {
		f.Fatalf("DeleteFile: %v", err)
	}
	_, err := f.s.GetFile(f.ctx, "proj", file.ID, metaT0)
	f.wantCode("GetFile of a deleted file", err, silo.ENOTFOUND)
	f.wantCode("DeleteFile again", f.s.DeleteFile(f.ctx, "proj", file.ID, metaT0), silo.ENOTFOUND)
	f.wantCode("DeleteFile of an unknown id", f.s.DeleteFile(f.ctx, "proj", silo.NewID(silo.FileIDPrefix), metaT0), silo.ENOTFOUND)
	if g := f.garbage(); len(g) != 2 || !g["files/a"] || !g["files/b"] {
		f.Errorf("garbage after DeleteFile: got %v, want files/a and files/b", g)
	}
	list, err := f.s.ListFiles(f.ctx, "proj", silo.FileQuery{Limit: 10, Order: "asc"}, metaT0)
	if err != nil {
		f.Fatalf("ListFiles: %v", err)
	}
	if got, want := metaIDs(list.Files), keep.ID; got != want {
		f.Errorf("ListFiles after DeleteFile: got %q, want %q", got, want)
	}

	// Deleting the File of an Upload leaves the Upload readable.
	u := f.upload("proj")
	done, err := f.s.CompleteUpload(f.ctx, f.completion(u, f.part(u, 100, 1)))
	if err != nil {
		f.Fatalf("CompleteUpload: %v", err)
	}
	if err := f.s.DeleteFile(f.ctx, "proj", done.File.ID, metaT0); err != nil {
		f.Fatalf("DeleteFile of an upload's file: %v", err)
	}
	got, err := f.s.GetUpload(f.ctx, "proj", u.ID)
	if err != nil {
		f.Fatalf("GetUpload after deleting its file: %v", err)
	}
	if got.Status != silo.StatusCompleted || got.File == nil || got.File.ID != done.File.ID {
		f.Errorf("GetUpload after deleting its file: got %s, want it completed with file %s", metaUploadString(got), done.File.ID)
	}
	if g := f.garbage(); len(g) != 1 || !g[done.File.Blobs[0].Key] {
		f.Errorf("garbage after deleting an upload's file: got %v, want its part", g)
	}
}

// testExpireFiles checks that expiry deletes only live Files whose expires_at
// has come, at most n per call, and queues their blobs as garbage.
func testExpireFiles(f *metaFixture) {
	exp := metaT0.Add(time.Hour)
	var due []*silo.File
	for range 3 {
		due = append(due, f.file("proj", "batch", exp.Unix()))
	}
	later := f.file("proj", "batch", exp.Add(time.Hour).Unix())
	never := f.file("proj", "assistants", 0)
	gone := f.file("proj", "batch", exp.Unix())
	if err := f.s.DeleteFile(f.ctx, "proj", gone.ID, metaT0); err != nil {
		f.Fatalf("DeleteFile: %v", err)
	}
	f.garbage() // forget the delete's garbage

	for _, tc := range []struct {
		now  time.Time
		want int
	}{{exp.Add(-time.Nanosecond), 0}, {exp, 2}, {exp, 1}, {exp, 0}} {
		n, err := f.s.ExpireFiles(f.ctx, tc.now, 2)
		if err != nil {
			f.Fatalf("ExpireFiles: %v", err)
		}
		if n != tc.want {
			f.Errorf("ExpireFiles(%v, 2): got %d, want %d", tc.now.Sub(exp), n, tc.want)
		}
	}
	g := f.garbage()
	for _, file := range due {
		if !g[file.Blobs[0].Key] {
			f.Errorf("garbage after ExpireFiles: %s missing", file.Blobs[0].Key)
		}
	}
	if len(g) != len(due) {
		f.Errorf("garbage after ExpireFiles: got %d keys, want the %d blobs of the expired files", len(g), len(due))
	}
	for _, file := range due {
		_, err := f.s.GetFile(f.ctx, "proj", file.ID, metaT0)
		f.wantCode("GetFile of an expired file, before its expiry", err, silo.ENOTFOUND)
	}
	list, err := f.s.ListFiles(f.ctx, "proj", silo.FileQuery{Limit: 10, Order: "asc"}, metaT0)
	if err != nil {
		f.Fatalf("ListFiles: %v", err)
	}
	if got, want := metaIDs(list.Files), later.ID+" "+never.ID; got != want {
		f.Errorf("ListFiles after ExpireFiles: got %q, want %q", got, want)
	}
}

// testListFilesNoBlobs checks that listed Files carry no Blobs, however many
// their files have, while GetFile still returns every blob in order.
func testListFilesNoBlobs(f *metaFixture) {
	var want []*silo.File
	for i, n := range []int{3, 0, 5} {
		var blobs []silo.BlobRef
		for j := range n {
			// Keys that sort against the blob order, so that an order by key
			// shows.
			blobs = append(blobs, silo.BlobRef{Key: fmt.Sprintf("files/%d/%c", i, 'z'-j), Size: int64(10 + j)})
		}
		file := f.newFile("proj", "batch", 0, blobs...)
		if err := f.s.CreateFile(f.ctx, file, silo.Quota{}); err != nil {
			f.Fatalf("CreateFile: %v", err)
		}
		want = append(want, file)
	}
	u := f.upload("proj")
	done, err := f.s.CompleteUpload(f.ctx, f.completion(u, f.part(u, 4, 2), f.part(u, 6, 1)))
	if err != nil {
		f.Fatalf("CompleteUpload: %v", err)
	}
	want = append(want, done.File)

	for _, order := range []string{"asc", "desc"} {
		list, err := f.s.ListFiles(f.ctx, "proj", silo.FileQuery{Limit: 10, Order: order}, metaT0)
		if err != nil {
			f.Fatalf("ListFiles(%s): %v", order, err)
		}
		if len(list.Files) != len(want) {
			f.Fatalf("ListFiles(%s): got %d files, want %d", order, len(list.Files), len(want))
		}
		for _, got := range list.Files {
			if len(got.Blobs) != 0 {
				f.Errorf("ListFiles(%s): file %s has %d blobs, want none: a listed File carries no Blobs", order, got.ID, len(got.Blobs))
			}
		}
	}
	list, err := f.s.ListFiles(f.ctx, "proj", silo.FileQuery{Limit: 10, Order: "asc"}, metaT0)
	if err != nil {
		f.Fatalf("ListFiles: %v", err)
	}
	for i, w := range want {
		listed := *w
		listed.Blobs = nil
		f.wantFile(fmt.Sprintf("ListFiles[%d]", i), list.Files[i], &listed)
		got, err := f.s.GetFile(f.ctx, "proj", w.ID, metaT0)
		if err != nil {
			f.Fatalf("GetFile: %v", err)
		}
		f.wantFile("GetFile of a listed file", got, w)
	}
}
