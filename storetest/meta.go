package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/silo-dev/silo"
)

// MetaStore runs the conformance suite for silo.MetaStore. open must return a
// fresh, empty store on every call; each subtest opens its own store, and the
// suite closes every store it opened when that subtest ends.
func MetaStore(t *testing.T, open func(t *testing.T) silo.MetaStore) {
	tests := []struct {
		name string
		fn   func(f *metaFixture)
	}{
		{"CreateGetUpload", testCreateGetUpload},
		{"GetUploadNotFound", testGetUploadNotFound},
		{"UploadCopies", testUploadCopies},
		{"ProjectIsolation", testProjectIsolation},
		{"AddPart", testAddPart},
		{"AddPartExpiry", testAddPartExpiry},
		{"AddPartLimit", testAddPartLimit},
		{"AddPartCount", testAddPartCount},
		{"AddPartCountAndBytes", testAddPartCountAndBytes},
		{"AddPartNotPending", testAddPartNotPending},
		{"ListParts", testListParts},
		{"CompleteUpload", testCompleteUpload},
		{"CompleteUploadAgain", testCompleteUploadAgain},
		{"CompleteUploadNotPending", testCompleteUploadNotPending},
		{"CancelUpload", testCancelUpload},
		{"CancelUploadNotPending", testCancelUploadNotPending},
		{"ExpireUploads", testExpireUploads},
		{"CreateGetFile", testCreateGetFile},
		{"FileExpiry", testFileExpiry},
		{"FileCopies", testFileCopies},
		{"ListFilesOrder", testListFilesOrder},
		{"ListFilesPurpose", testListFilesPurpose},
		{"ListFilesPaging", testListFilesPaging},
		{"ListFilesHasMore", testListFilesHasMore},
		{"ListFilesAfterGone", testListFilesAfterGone},
		{"ListFilesAfterInvalid", testListFilesAfterInvalid},
		{"ListFilesNoBlobs", testListFilesNoBlobs},
		{"DeleteFile", testDeleteFile},
		{"ExpireFiles", testExpireFiles},
		{"ClaimGarbage", testClaimGarbage},
		{"ClaimGarbageLease", testClaimGarbageLease},
		{"ForgetGarbage", testForgetGarbage},
		{"KnownBlobs", testKnownBlobs},
		{"RaceAddPartLimit", testRaceAddPartLimit},
		{"RaceAddPartCount", testRaceAddPartCount},
		{"RaceCompleteCancel", testRaceCompleteCancel},
		{"Usage", testUsage},
		{"QuotaRefusals", testQuotaRefusals},
		{"RaceQuota", testRaceQuota},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(&metaFixture{T: t, s: s, ctx: context.Background(), gcNow: metaT0.Add(1000 * time.Hour)})
		})
	}
}

// metaT0 is the suite's clock: every record is created at it, so expiry is
// tested by passing later times, never by sleeping.
var metaT0 = time.Unix(1_700_000_000, 0)

// metaNoLimits are part limits no test comes near: the service's most.
var metaNoLimits = silo.PartLimits{Bytes: silo.MaxUploadBytes, Count: silo.MaxUploadParts}

// metaBytes100 limits an Upload's parts to 100 bytes, and to no count a test
// comes near.
var metaBytes100 = silo.PartLimits{Bytes: 100, Count: silo.MaxUploadParts}

// metaFar is a time after everything the suite does.
var metaFar = metaT0.Add(100_000 * time.Hour)

// metaFixture is one subtest's store with helpers that fail the test on
// unexpected errors.
type metaFixture struct {
	*testing.T
	s   silo.MetaStore
	ctx context.Context
	// gcNow is the clock of garbage(); it moves on by more than any lease
	// with every call, so no lease of an earlier claim hides a key.
	gcNow time.Time
}

// newUpload returns a pending Upload of project created at metaT0, not stored.
func (f *metaFixture) newUpload(project string) *silo.Upload {
	return &silo.Upload{
		ID:        silo.NewID(silo.UploadIDPrefix),
		Project:   project,
		Bytes:     100,
		Filename:  "data.jsonl",
		Purpose:   "batch",
		MimeType:  "application/jsonl",
		CreatedAt: metaT0.Unix(),
		ExpiresAt: metaT0.Add(silo.DefaultUploadTTL).Unix(),
		Status:    silo.StatusPending,
	}
}

// upload stores a new pending Upload of project.
func (f *metaFixture) upload(project string) *silo.Upload {
	f.Helper()
	u := f.newUpload(project)
	if err := f.s.CreateUpload(f.ctx, u, silo.Quota{}); err != nil {
		f.Fatalf("CreateUpload: %v", err)
	}
	return u
}

// newPart returns a part of u, not recorded; started orders it.
func (f *metaFixture) newPart(u *silo.Upload, size, started int64) *silo.Part {
	id := silo.NewID(silo.PartIDPrefix)
	return &silo.Part{
		ID:        id,
		UploadID:  u.ID,
		Project:   u.Project,
		Size:      size,
		CreatedAt: metaT0.Unix(),
		Started:   started,
		BlobKey:   "parts/" + id,
	}
}

// part records a new part of u at metaT0 with no size limit to speak of.
func (f *metaFixture) part(u *silo.Upload, size, started int64) *silo.Part {
	f.Helper()
	p := f.newPart(u, size, started)
	if err := f.s.AddPart(f.ctx, p, metaT0, metaNoLimits, silo.Quota{}); err != nil {
		f.Fatalf("AddPart: %v", err)
	}
	return p
}

// newFile returns a File of project whose bytes are the given blobs, not stored.
func (f *metaFixture) newFile(project, purpose string, expiresAt int64, blobs ...silo.BlobRef) *silo.File {
	var n int64
	for _, b := range blobs {
		n += b.Size
	}
	return &silo.File{
		ID:        silo.NewID(silo.FileIDPrefix),
		Project:   project,
		Bytes:     n,
		CreatedAt: metaT0.Unix(),
		Filename:  "data.jsonl",
		Purpose:   purpose,
		ExpiresAt: expiresAt,
		Blobs:     blobs,
	}
}

// file stores a new File of project with one blob.
func (f *metaFixture) file(project, purpose string, expiresAt int64) *silo.File {
	f.Helper()
	id := silo.NewID("")
	file := f.newFile(project, purpose, expiresAt, silo.BlobRef{Key: "files/" + id, Size: 10})
	if err := f.s.CreateFile(f.ctx, file, silo.Quota{}); err != nil {
		f.Fatalf("CreateFile: %v", err)
	}
	return file
}

// completion completes u at metaT0 with the parts, in that order.
func (f *metaFixture) completion(u *silo.Upload, parts ...*silo.Part) *silo.Completion {
	c := &silo.Completion{Project: u.Project, UploadID: u.ID, MD5: "0123456789abcdef0123456789abcdef", Now: metaT0}
	var blobs []silo.BlobRef
	for _, p := range parts {
		c.PartIDs = append(c.PartIDs, p.ID)
		blobs = append(blobs, silo.BlobRef{Key: p.BlobKey, Size: p.Size})
	}
	c.File = f.newFile(u.Project, u.Purpose, 0, blobs...)
	c.File.Filename = u.Filename
	return c
}

// garbage returns every key queued as garbage, however leased, and forgets
// them, so that the next call returns only what was queued in between.
func (f *metaFixture) garbage() map[string]bool {
	f.Helper()
	keys, err := f.s.ClaimGarbage(f.ctx, metaFar, f.gcNow, time.Minute, 1_000_000)
	if err != nil {
		f.Fatalf("ClaimGarbage: %v", err)
	}
	f.gcNow = f.gcNow.Add(time.Hour)
	if err := f.s.ForgetGarbage(f.ctx, keys); err != nil {
		f.Fatalf("ForgetGarbage: %v", err)
	}
	set := make(map[string]bool)
	for _, k := range keys {
		if set[k] {
			f.Errorf("ClaimGarbage returned %s twice", k)
		}
		set[k] = true
	}
	return set
}

// known returns KnownBlobs of keys.
func (f *metaFixture) known(keys ...string) map[string]bool {
	f.Helper()
	m, err := f.s.KnownBlobs(f.ctx, keys)
	if err != nil {
		f.Fatalf("KnownBlobs: %v", err)
	}
	return m
}

// wantCode fails the test unless err has the code ("" for nil).
func (f *metaFixture) wantCode(what string, err error, code string) {
	f.Helper()
	if got := silo.ErrorCode(err); got != code {
		f.Errorf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

// wantError fails the test unless err is a *silo.Error with code and param.
func (f *metaFixture) wantError(what string, err error, code, param string) {
	f.Helper()
	var e *silo.Error
	if !errors.As(err, &e) {
		f.Errorf("%s: got error %v, want a *silo.Error with code %q param %q", what, err, code, param)
		return
	}
	if e.Code != code || e.Param != param {
		f.Errorf("%s: got code %q param %q (%v), want code %q param %q", what, e.Code, e.Param, err, code, param)
	}
}

// wantUpload fails the test unless got equals want, File included.
func (f *metaFixture) wantUpload(what string, got, want *silo.Upload) {
	f.Helper()
	if g, w := metaUploadString(got), metaUploadString(want); g != w {
		f.Errorf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

// wantFile fails the test unless got equals want.
func (f *metaFixture) wantFile(what string, got, want *silo.File) {
	f.Helper()
	if g, w := metaFileString(got), metaFileString(want); g != w {
		f.Errorf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

// metaUploadString renders u with its File, treating nil and empty slices alike.
func metaUploadString(u *silo.Upload) string {
	if u == nil {
		return "<nil>"
	}
	c := *u
	c.File = nil
	if len(c.PartIDs) == 0 {
		c.PartIDs = nil
	}
	return fmt.Sprintf("%+v file=%s", c, metaFileString(u.File))
}

// metaFileString renders f, treating nil and empty slices alike.
func metaFileString(f *silo.File) string {
	if f == nil {
		return "<nil>"
	}
	c := *f
	if len(c.Blobs) == 0 {
		c.Blobs = nil
	}
	return fmt.Sprintf("%+v", c)
}

// metaIDs returns the ids of files, for comparing pages.
func metaIDs(files []*silo.File) string {
	ids := make([]string, len(files))
	for i, f := range files {
		ids[i] = f.ID
	}
	return strings.Join(ids, " ")
}
