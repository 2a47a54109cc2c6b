package storetest

import (
	"slices"
	"time"

	"github.com/silo-dev/silo"
)

// list returns ListFiles' page as a string of ids, and has_more.
func (f *metaFixture) list(q silo.FileQuery, now time.Time) (string, bool) {
	f.Helper()
	l, err := f.s.ListFiles(f.ctx, "proj", q, now)
	if err != nil {
		f.Fatalf("ListFiles(%+v): %v", q, err)
	}
	return metaIDs(l.Files), l.HasMore
}

// wantList fails the test unless ListFiles gives the files and has_more.
func (f *metaFixture) wantList(q silo.FileQuery, now time.Time, want []*silo.File, wantMore bool) {
	f.Helper()
	got, more := f.list(q, now)
	if w := metaIDs(want); got != w || more != wantMore {
		f.Errorf("ListFiles(%+v):\ngot  %q has_more %v\nwant %q has_more %v", q, got, more, w, wantMore)
	}
}

// files creates files of project "proj" with the purposes, in that order, all
// within one second; another project's file comes between each two.
func (f *metaFixture) files(purposes ...string) []*silo.File {
	f.Helper()
	var files []*silo.File
	for _, p := range purposes {
		files = append(files, f.file("proj", p, 0))
		f.file("other", p, 0)
	}
	return files
}

// metaReversed returns a reversed copy of files.
func metaReversed(files []*silo.File) []*silo.File {
	r := slices.Clone(files)
	slices.Reverse(r)
	return r
}

// testListFilesOrder checks creation order within one second, whatever the ids.
func testListFilesOrder(f *metaFixture) {
	f.wantList(silo.FileQuery{Limit: 10, Order: "asc"}, metaT0, nil, false)
	files := f.files("batch", "batch", "batch", "batch", "batch")
	f.wantList(silo.FileQuery{Limit: 10, Order: "asc"}, metaT0, files, false)
	f.wantList(silo.FileQuery{Limit: 10, Order: "desc"}, metaT0, metaReversed(files), false)
	f.wantList(silo.FileQuery{Limit: silo.MaxListLimit, Order: "desc"}, metaT0, metaReversed(files), false)
}

func testListFilesPurpose(f *metaFixture) {
	files := f.files("batch", "vision", "batch", "assistants", "batch")
	batch := []*silo.File{files[0], files[2], files[4]}
	f.wantList(silo.FileQuery{Purpose: "batch", Limit: 10, Order: "asc"}, metaT0, batch, false)
	f.wantList(silo.FileQuery{Purpose: "batch", Limit: 10, Order: "desc"}, metaT0, metaReversed(batch), false)
	f.wantList(silo.FileQuery{Purpose: "vision", Limit: 10, Order: "asc"}, metaT0, files[1:2], false)
	f.wantList(silo.FileQuery{Purpose: "evals", Limit: 10, Order: "asc"}, metaT0, nil, false)
	// A cursor may name a file of another purpose: it is a position.
	f.wantList(silo.FileQuery{Purpose: "batch", Limit: 10, Order: "asc", After: files[1].ID}, metaT0, batch[1:], false)
	f.wantList(silo.FileQuery{Purpose: "batch", Limit: 10, Order: "desc", After: files[3].ID}, metaT0, metaReversed(batch[:2]), false)
	f.wantList(silo.FileQuery{Purpose: "batch", Limit: 1, Order: "asc", After: files[0].ID}, metaT0, batch[1:2], true)
	f.wantList(silo.FileQuery{Purpose: "batch", Limit: 1, Order: "asc", After: files[2].ID}, metaT0, batch[2:], false)
}

// testListFilesPaging pages through every file in both orders and checks that
// every page advances and has_more is true exactly while files remain.
func testListFilesPaging(f *metaFixture) {
	files := f.files("batch", "vision", "batch", "user_data", "batch", "evals", "fine-tune")
	for _, order := range []string{"asc", "desc"} {
		want := files
		if order == "desc" {
			want = metaReversed(files)
		}
		for limit := 1; limit <= len(files)+1; limit++ {
			q := silo.FileQuery{Limit: limit, Order: order}
			for start := 0; ; start += limit {
				end := min(start+limit, len(want))
				f.wantList(q, metaT0, want[start:end], end < len(want))
				if end == len(want) || f.Failed() {
					break
				}
				q.After = want[end-1].ID
			}
		}
	}
}

// testListFilesHasMore checks that has_more counts only files the next page
// would show: deleted, expired and other purposes' files do not count.
func testListFilesHasMore(f *metaFixture) {
	exp := metaT0.Add(time.Hour)
	a, b := f.file("proj", "batch", 0), f.file("proj", "batch", 0)
	c := f.file("proj", "batch", exp.Unix())
	d := f.file("proj", "batch", 0)
	f.file("proj", "vision", 0)
	if err := f.s.DeleteFile(f.ctx, "proj", d.ID, metaT0); err != nil {
		f.Fatalf("DeleteFile: %v", err)
	}
	q := silo.FileQuery{Purpose: "batch", Limit: 2, Order: "asc"}
	f.wantList(q, exp, []*silo.File{a, b}, false)
	f.wantList(q, metaT0, []*silo.File{a, b}, true)
	q.After = b.ID
	f.wantList(q, metaT0, []*silo.File{c}, false)
	q = silo.FileQuery{Purpose: "batch", Limit: 1, Order: "desc"}
	f.wantList(q, exp, []*silo.File{b}, true)
	q.After = b.ID
	f.wantList(q, exp, []*silo.File{a}, false)
	q = silo.FileQuery{Limit: 2, Order: "asc", After: b.ID}
	f.wantList(q, exp, f.listAll("vision"), false)
}

// listAll returns every live file of purpose in creation order.
func (f *metaFixture) listAll(purpose string) []*silo.File {
	f.Helper()
	l, err := f.s.ListFiles(f.ctx, "proj", silo.FileQuery{Purpose: purpose, Limit: silo.MaxListLimit, Order: "asc"}, metaT0)
	if err != nil {
		f.Fatalf("ListFiles: %v", err)
	}
	return l.Files
}

// testListFilesAfterGone checks that a cursor naming a file that was deleted
// or expired since still marks its place: clients delete as they page.
func testListFilesAfterGone(f *metaFixture) {
	exp := metaT0.Add(time.Hour)
	a, b := f.file("proj", "batch", 0), f.file("proj", "batch", 0)
	c := f.file("proj", "vision", exp.Unix())
	d, e := f.file("proj", "batch", 0), f.file("proj", "batch", 0)
	f.wantList(silo.FileQuery{Limit: 2, Order: "asc"}, metaT0, []*silo.File{a, b}, true)
	if err := f.s.DeleteFile(f.ctx, "proj", b.ID, metaT0); err != nil {
		f.Fatalf("DeleteFile: %v", err)
	}
	f.wantList(silo.FileQuery{Limit: 2, Order: "asc", After: b.ID}, metaT0, []*silo.File{c, d}, true)
	f.wantList(silo.FileQuery{Limit: 2, Order: "desc", After: b.ID}, metaT0, []*silo.File{a}, false)
	f.wantList(silo.FileQuery{Purpose: "batch", Limit: 5, Order: "asc", After: b.ID}, metaT0, []*silo.File{d, e}, false)

	// c expired by time, then deleted by expiry.
	f.wantList(silo.FileQuery{Limit: 5, Order: "asc", After: c.ID}, exp, []*silo.File{d, e}, false)
	f.wantList(silo.FileQuery{Limit: 5, Order: "desc", After: c.ID}, exp, []*silo.File{a}, false)
	if _, err := f.s.ExpireFiles(f.ctx, exp, 10); err != nil {
		f.Fatalf("ExpireFiles: %v", err)
	}
	f.wantList(silo.FileQuery{Limit: 1, Order: "asc", After: c.ID}, exp, []*silo.File{d}, true)
	f.wantList(silo.FileQuery{Limit: 5, Order: "desc", After: c.ID}, metaT0, []*silo.File{a}, false)

	// Every file gone: the cursor still works and yields nothing.
	for _, x := range []*silo.File{a, d, e} {
		if err := f.s.DeleteFile(f.ctx, "proj", x.ID, metaT0); err != nil {
			f.Fatalf("DeleteFile: %v", err)
		}
	}
	f.wantList(silo.FileQuery{Limit: 5, Order: "asc", After: e.ID}, metaT0, nil, false)
	f.wantList(silo.FileQuery{Limit: 5, Order: "desc", After: a.ID}, metaT0, nil, false)
	f.wantList(silo.FileQuery{Limit: 5, Order: "asc"}, metaT0, nil, false)
}

// testListFilesAfterInvalid checks that a cursor that never named a file of
// the project is refused rather than read as a position.
func testListFilesAfterInvalid(f *metaFixture) {
	f.file("proj", "batch", 0)
	theirs := f.file("other", "batch", 0)
	u := f.upload("proj")
	for _, after := range []string{silo.NewID(silo.FileIDPrefix), theirs.ID, u.ID, "x"} {
		for _, order := range []string{"asc", "desc"} {
			_, err := f.s.ListFiles(f.ctx, "proj", silo.FileQuery{Limit: 10, Order: order, After: after}, metaT0)
			f.wantError("ListFiles after "+after, err, silo.EINVALID, "after")
		}
	}
}
