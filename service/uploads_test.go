package service_test

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silo-dev/silo"
)

func TestUploadService_CreateUpload(t *testing.T) {
	ea := func(a string, s int64) *silo.ExpiresAfter { return &silo.ExpiresAfter{Anchor: a, Seconds: s} }
	for _, tc := range []struct {
		name        string
		req         silo.UploadCreate
		code, param string
	}{
		{"no filename", silo.UploadCreate{Purpose: "batch", Bytes: 1, MimeType: "a/b"}, silo.EMISSING, "filename"},
		{"no purpose", silo.UploadCreate{Filename: "f", Bytes: 1, MimeType: "a/b"}, silo.EMISSING, "purpose"},
		{"bad purpose", silo.UploadCreate{Filename: "f", Purpose: "x", Bytes: 1, MimeType: "a/b"}, silo.EINVALID, "purpose"},
		{"negative bytes", silo.UploadCreate{Filename: "f.jsonl", Purpose: "batch", Bytes: -1, MimeType: "a/b"}, silo.EINVALID, "bytes"},
		{"too many bytes", silo.UploadCreate{Filename: "f.jsonl", Purpose: "batch", Bytes: silo.MaxUploadBytes + 1, MimeType: "a/b"}, silo.EUPLOADTOOLARGE, "bytes"},
		{"no mime type", silo.UploadCreate{Filename: "f.jsonl", Purpose: "batch", Bytes: 1}, silo.EMISSING, "mime_type"},
		{"bad anchor", silo.UploadCreate{Filename: "f.jsonl", Purpose: "batch", Bytes: 1, MimeType: "a/b", ExpiresAfter: ea("now", 3600)}, silo.EINVALID, "expires_after.anchor"},
		{"short expiry", silo.UploadCreate{Filename: "f.jsonl", Purpose: "batch", Bytes: 1, MimeType: "a/b", ExpiresAfter: ea("created_at", 3599)}, silo.EINVALID, "expires_after.seconds"},
		{"long expiry", silo.UploadCreate{Filename: "f.jsonl", Purpose: "batch", Bytes: 1, MimeType: "a/b", ExpiresAfter: ea("created_at", 2592001)}, silo.EINVALID, "expires_after.seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.svc.CreateUpload(f.ctx, &tc.req)
			wantCode(t, err, tc.code, tc.param)
		})
	}
	t.Run("ok", func(t *testing.T) {
		f := newFixture(t)
		u := f.upload(t, silo.MaxUploadBytes)
		if u.Status != silo.StatusPending || u.CreatedAt != t0.Unix() || u.ExpiresAt != t0.Unix()+3600 || u.Project != "p1" {
			t.Fatalf("got %+v, want pending, created now, expiring in an hour, project p1", u)
		}
	})
}

func TestUploadService_AddPart(t *testing.T) {
	t.Run("unknown and other project", func(t *testing.T) {
		f := newFixture(t)
		u := f.upload(t, 3)
		_, err := f.svc.AddPart(f.ctx, "upload_nope", strings.NewReader("abc"))
		wantCode(t, err, silo.ENOTFOUND, "upload_id")
		_, err = f.svc.AddPart(f.other, u.ID, strings.NewReader("abc"))
		wantCode(t, err, silo.ENOTFOUND, "upload_id")
	})
	t.Run("too large stops at the limit and keeps nothing", func(t *testing.T) {
		blobs := &discardBlobs{}
		f := newFixtureOn(t, blobs)
		u := f.upload(t, 100<<20)
		r := &countingReader{r: io.LimitReader(zeros{}, silo.MaxPartBytes+10<<20)}
		_, err := f.svc.AddPart(f.ctx, u.ID, r)
		wantCode(t, err, silo.EPARTTOOLARGE, "data")
		if r.n > silo.MaxPartBytes+1<<20 {
			t.Errorf("read %d bytes of an oversized part, want the reading to stop near %d", r.n, silo.MaxPartBytes)
		}
		if n := blobs.len(); n != 0 {
			t.Errorf("got %d blobs after a rejected part, want 0", n)
		}
		// The limit itself is fine.
		if _, err := f.svc.AddPart(f.ctx, u.ID, io.LimitReader(zeros{}, silo.MaxPartBytes)); err != nil {
			t.Fatalf("part of exactly 64 MiB: %v", err)
		}
	})
	t.Run("parts beyond bytes plus one part", func(t *testing.T) {
		blobs := &discardBlobs{}
		f := newFixtureOn(t, blobs)
		u := f.upload(t, 10)
		f.part(t, u.ID, make([]byte, 10))
		f.part(t, u.ID, make([]byte, 64<<20))
		_, err := f.svc.AddPart(f.ctx, u.ID, strings.NewReader("x"))
		wantCode(t, err, silo.EUPLOADTOOLARGE, "data")
		if n := blobs.len(); n != 2 {
			t.Errorf("got %d blobs, want the 2 accepted parts only", n)
		}
	})
	t.Run("expiry at exactly expires_at", func(t *testing.T) {
		f := newFixture(t)
		u := f.upload(t, 2)
		f.clock.Set(time.Unix(u.ExpiresAt, 0).Add(-time.Nanosecond))
		f.part(t, u.ID, []byte("a"))
		f.clock.Set(time.Unix(u.ExpiresAt, 0))
		_, err := f.svc.AddPart(f.ctx, u.ID, strings.NewReader("b"))
		wantCode(t, err, silo.EUPLOADEXPIRED, "")
	})
	t.Run("not pending", func(t *testing.T) {
		f := newFixture(t)
		u := f.upload(t, 1)
		p := f.part(t, u.ID, []byte("a"))
		if _, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{p.ID}, ""); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.AddPart(f.ctx, u.ID, strings.NewReader("b"))
		wantCode(t, err, silo.EUPLOADCOMPLETED, "")
		c := f.upload(t, 1)
		if _, err := f.svc.CancelUpload(f.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.AddPart(f.ctx, c.ID, strings.NewReader("b"))
		wantCode(t, err, silo.EUPLOADCANCELLED, "")
	})
}

func TestUploadService_Complete(t *testing.T) {
	t.Run("out of order parts, listed order wins", func(t *testing.T) {
		f := newFixture(t)
		a, b, c := randBytes(1000, 1), randBytes(2000, 2), randBytes(5, 3)
		u := f.upload(t, 3005)
		pc := f.part(t, u.ID, c)
		pa := f.part(t, u.ID, a)
		pb := f.part(t, u.ID, b)
		want := slices.Concat(a, b, c)
		done, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{pa.ID, pb.ID, pc.ID}, md5hex(want))
		if err != nil {
			t.Fatalf("CompleteUpload: %v", err)
		}
		if done.Status != silo.StatusCompleted || done.File == nil || done.File.Bytes != 3005 || done.File.Filename != "data.jsonl" {
			t.Fatalf("got %+v, want completed with a 3005-byte file", done)
		}
		if done.File.ExpiresAt != t0.Unix()+30*24*3600 {
			t.Errorf("got batch file expires_at %d, want 30 days after creation", done.File.ExpiresAt)
		}
		if got := f.content(t, done.File.ID, 0, -1); !bytes.Equal(got, want) {
			t.Fatalf("file bytes differ from the parts in listed order")
		}
		// A range across the boundaries of all three parts.
		if got := f.content(t, done.File.ID, 990, 2012); !bytes.Equal(got, want[990:3002]) {
			t.Fatalf("range across parts: got %d bytes, want %d matching", len(got), 2012)
		}
	})
	t.Run("idempotent with the same parts", func(t *testing.T) {
		f := newFixture(t)
		u := f.upload(t, 2)
		p1, p2 := f.part(t, u.ID, []byte("a")), f.part(t, u.ID, []byte("b"))
		ids := []string{p1.ID, p2.ID}
		first, err := f.svc.CompleteUpload(f.ctx, u.ID, ids, md5hex([]byte("ab")))
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.svc.CompleteUpload(f.ctx, u.ID, ids, "")
		if err != nil {
			t.Fatalf("second identical complete: %v", err)
		}
		if again.File.ID != first.File.ID {
			t.Fatalf("got file %s on retry, want the same file %s", again.File.ID, first.File.ID)
		}
		_, err = f.svc.CompleteUpload(f.ctx, u.ID, []string{p2.ID, p1.ID}, "")
		wantCode(t, err, silo.EUPLOADCOMPLETED, "")
	})
	t.Run("errors keep the upload pending", func(t *testing.T) {
		f := newFixture(t)
		u := f.upload(t, 3)
		other := f.upload(t, 1)
		po := f.part(t, other.ID, []byte("z"))
		p1, p2 := f.part(t, u.ID, []byte("ab")), f.part(t, u.ID, []byte("c"))
		for _, tc := range []struct {
			name        string
			ids         []string
			md5         string
			code, param string
		}{
			{"duplicate", []string{p1.ID, p1.ID}, "", silo.EDUPLICATEPART, "part_ids"},
			{"unknown part", []string{p1.ID, "part_nope"}, "", silo.EPARTNOTFOUND, "part_ids"},
			{"part of another upload", []string{p1.ID, po.ID}, "", silo.EPARTNOTFOUND, "part_ids"},
			{"bytes mismatch", []string{p1.ID}, "", silo.EBYTESMISMATCH, "part_ids"},
			{"bad md5", []string{p1.ID, p2.ID}, "xyz", silo.EINVALID, "md5"},
			{"md5 mismatch", []string{p2.ID, p1.ID}, md5hex([]byte("abc")), silo.EMD5MISMATCH, "md5"},
		} {
			_, err := f.svc.CompleteUpload(f.ctx, u.ID, tc.ids, tc.md5)
			wantCode(t, err, tc.code, tc.param)
		}
		_, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{p1.ID}, "")
		if e := err.(*silo.Error); !strings.Contains(e.Message, "2") || !strings.Contains(e.Message, "3") {
			t.Errorf("bytes mismatch message %q should give both numbers", e.Message)
		}
		done, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{p1.ID, p2.ID}, strings.ToUpper(md5hex([]byte("abc"))))
		if err != nil {
			t.Fatalf("complete after failed attempts: %v", err)
		}
		if got := f.content(t, done.File.ID, 0, -1); string(got) != "abc" {
			t.Fatalf("got %q, want abc", got)
		}
	})
	t.Run("not pending", func(t *testing.T) {
		f := newFixture(t)
		u := f.upload(t, 1)
		p := f.part(t, u.ID, []byte("a"))
		if _, err := f.svc.CancelUpload(f.ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{p.ID}, "")
		wantCode(t, err, silo.EUPLOADCANCELLED, "")
		e := f.upload(t, 1)
		pe := f.part(t, e.ID, []byte("a"))
		f.clock.Set(time.Unix(e.ExpiresAt, 0))
		_, err = f.svc.CompleteUpload(f.ctx, e.ID, []string{pe.ID}, "")
		wantCode(t, err, silo.EUPLOADEXPIRED, "")
		_, err = f.svc.CompleteUpload(f.other, e.ID, []string{pe.ID}, "")
		wantCode(t, err, silo.ENOTFOUND, "upload_id")
	})
	t.Run("md5 in chain order, reverse order, and a partial chain", func(t *testing.T) {
		f := newFixture(t)
		var parts [][]byte
		var ids []string
		u := f.upload(t, 6*50_000)
		for i := range 6 {
			parts = append(parts, randBytes(50_000, byte(i)))
			f.clock.Add(time.Millisecond)
			ids = append(ids, f.part(t, u.ID, parts[i]).ID)
		}
		rev := slices.Clone(ids)
		slices.Reverse(rev)
		var revBytes []byte
		for i := len(parts) - 1; i >= 0; i-- {
			revBytes = append(revBytes, parts[i]...)
		}
		_, err := f.svc.CompleteUpload(f.ctx, u.ID, rev, md5hex(slices.Concat(parts...)))
		wantCode(t, err, silo.EMD5MISMATCH, "md5")
		// The first two in chain order, then the rest reversed: half from the
		// chain, half read.
		mixed := slices.Concat(ids[:2], rev[:4])
		mixedBytes := slices.Concat(parts[0], parts[1], parts[5], parts[4], parts[3], parts[2])
		_, err = f.svc.CompleteUpload(f.ctx, u.ID, mixed, md5hex(revBytes))
		wantCode(t, err, silo.EMD5MISMATCH, "md5")
		if _, err := f.svc.CompleteUpload(f.ctx, u.ID, mixed, md5hex(mixedBytes)); err != nil {
			t.Fatalf("complete with md5 of a partly chained order: %v", err)
		}
		v := f.upload(t, 6*50_000)
		var vids []string
		for i := range 6 {
			f.clock.Add(time.Millisecond)
			vids = append(vids, f.part(t, v.ID, parts[i]).ID)
		}
		if _, err := f.svc.CompleteUpload(f.ctx, v.ID, vids, md5hex(slices.Concat(parts...))); err != nil {
			t.Fatalf("complete with md5 in chain order: %v", err)
		}
	})
	t.Run("left-out parts are reaped", func(t *testing.T) {
		f := newFixture(t)
		u := f.upload(t, 1)
		p := f.part(t, u.ID, []byte("a"))
		f.part(t, u.ID, []byte("left out"))
		if _, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{p.ID}, ""); err != nil {
			t.Fatal(err)
		}
		st, err := f.reap()
		if err != nil {
			t.Fatal(err)
		}
		if st.DeletedBlobs != 1 || blobCount(t, f) != 1 {
			t.Fatalf("got %d deleted and %d kept blobs, want 1 and 1", st.DeletedBlobs, blobCount(t, f))
		}
	})
}

func TestUploadService_Cancel(t *testing.T) {
	f := newFixture(t)
	u := f.upload(t, 2)
	f.part(t, u.ID, []byte("a"))
	c1, err := f.svc.CancelUpload(f.ctx, u.ID)
	if err != nil || c1.Status != silo.StatusCancelled {
		t.Fatalf("got %+v, %v; want cancelled", c1, err)
	}
	c2, err := f.svc.CancelUpload(f.ctx, u.ID)
	if err != nil || c2.Status != silo.StatusCancelled {
		t.Fatalf("cancel again: got %+v, %v; want cancelled again", c2, err)
	}
	if st, err := f.reap(); err != nil || st.DeletedBlobs != 1 || blobCount(t, f) != 0 {
		t.Fatalf("reap after cancel: %+v, %v, %d blobs left; want the part deleted", st, err, blobCount(t, f))
	}
	_, err = f.svc.CancelUpload(f.other, u.ID)
	wantCode(t, err, silo.ENOTFOUND, "upload_id")

	done := f.upload(t, 1)
	p := f.part(t, done.ID, []byte("x"))
	if _, err := f.svc.CompleteUpload(f.ctx, done.ID, []string{p.ID}, ""); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CancelUpload(f.ctx, done.ID)
	wantCode(t, err, silo.EUPLOADCOMPLETED, "")
}

func TestUploadService_Expiry(t *testing.T) {
	f := newFixture(t)
	u := f.upload(t, 1)
	f.part(t, u.ID, []byte("a"))
	f.clock.Set(time.Unix(u.ExpiresAt, 0))
	_, err := f.svc.CancelUpload(f.ctx, u.ID)
	wantCode(t, err, silo.EUPLOADEXPIRED, "")
	st, err := f.reap()
	if err != nil || st.ExpiredUploads != 1 || st.DeletedBlobs != 1 {
		t.Fatalf("got %+v, %v; want 1 expired upload and its part deleted", st, err)
	}
}

// TestUploadService_Race races complete, cancel and parts on one upload: one
// outcome, and no part accepted after the upload left pending.
func TestUploadService_Race(t *testing.T) {
	for round := range 20 {
		f := newFixture(t)
		u := f.upload(t, 2)
		p1, p2 := f.part(t, u.ID, []byte("a")), f.part(t, u.ID, []byte("b"))
		var wg sync.WaitGroup
		var mu sync.Mutex
		var files, cancels, late []string
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch i % 3 {
				case 0:
					d, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{p1.ID, p2.ID}, "")
					if err == nil {
						mu.Lock()
						files = append(files, d.File.ID)
						mu.Unlock()
					} else if code := silo.ErrorCode(err); code != silo.EUPLOADCANCELLED {
						// A loser learns the outcome, never a made-up part error.
						t.Errorf("round %d: a complete that lost got %v, want success or upload_cancelled", round, err)
					}
				case 1:
					if _, err := f.svc.CancelUpload(f.ctx, u.ID); err == nil {
						mu.Lock()
						cancels = append(cancels, "x")
						mu.Unlock()
					}
				default:
					if p, err := f.svc.AddPart(f.ctx, u.ID, strings.NewReader("c")); err == nil {
						mu.Lock()
						late = append(late, p.ID)
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		if len(files) > 0 == (len(cancels) > 0) {
			t.Fatalf("round %d: %d completes and %d cancels succeeded, want exactly one kind", round, len(files), len(cancels))
		}
		for _, id := range files {
			if id != files[0] {
				t.Fatalf("round %d: two files %s and %s from one upload", round, files[0], id)
			}
		}
		// Accepted late parts were accepted while pending; they are garbage now.
		f.reap()
		want := 0
		if len(files) > 0 {
			want = 2
		}
		if n := blobCount(t, f); n != want {
			t.Fatalf("round %d: got %d blobs after reaping, want %d (late parts: %d)", round, n, want, len(late))
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
