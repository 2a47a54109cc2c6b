package http

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/silo-dev/silo"
)

// FuzzRange downloads a File of size bytes with a Range header, by GET and by
// HEAD. A 206 serves a range within the file, the bytes its Content-Range
// names; a 200 the whole file; a 416 names the size; HEAD answers as GET
// does; and a well-formed single range gets what RFC 9110 says.
func FuzzRange(f *testing.F) {
	f.Fuzz(func(t *testing.T, header string, size uint16) {
		fs := newFuzzServer(t)
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i % 251)
		}
		file, err := fs.svc.CreateFile(fs.ctx, &silo.FileCreate{Filename: "r.bin", Purpose: "user_data", Data: bytes.NewReader(data)})
		if err != nil {
			t.Fatal(err)
		}
		path := "/v1/files/" + file.ID + "/content"
		get := serve(t, fs.h, "GET", path, nil, "Range", header)
		checkAnswer(t, get, 200, 206, 416)
		start, length := checkRangeAnswer(t, get, data)
		head := serve(t, fs.h, "HEAD", path, nil, "Range", header)
		checkAnswer(t, head, get.Code)
		for _, k := range []string{"Content-Length", "Content-Range", "Content-Type"} {
			if head.Header().Get(k) != get.Header().Get(k) {
				t.Errorf("%s: HEAD says %q, GET %q", k, head.Header().Get(k), get.Header().Get(k))
			}
		}
		if get.Code != 416 && head.Body.Len() != 0 {
			t.Errorf("HEAD answered with %d bytes of body", head.Body.Len())
		}

		// A well-formed single range, checked against RFC 9110 section 14.
		n := int64(size)
		if m := firstLast.FindStringSubmatch(header); m != nil {
			a, _ := strconv.ParseInt(m[1], 10, 64)
			b, err := strconv.ParseInt(m[2], 10, 64)
			switch {
			case m[2] != "" && (err != nil || b < a):
				// Invalid: either ignored or refused.
			case a >= n:
				wantStatus(t, get, header, 416)
			default:
				last := n - 1
				if m[2] != "" {
					last = min(b, n-1)
				}
				wantStatus(t, get, header, 206)
				if start != a || length != last-a+1 {
					t.Errorf("Range %q of %d bytes: served %d bytes from %d, want bytes %d-%d", header, n, length, start, a, last)
				}
			}
		}
		if m := suffix.FindStringSubmatch(header); m != nil && n > 0 {
			k, err := strconv.ParseInt(m[1], 10, 64)
			switch {
			case err != nil:
			case k == 0:
				wantStatus(t, get, header, 416)
			default:
				wantStatus(t, get, header, 206)
				if k = min(k, n); start != n-k || length != k {
					t.Errorf("Range %q of %d bytes: served %d bytes from %d, want the last %d", header, n, length, start, k)
				}
			}
		}
	})
}

// The single ranges FuzzRange checks against the RFC: bytes=A-[B] and bytes=-N.
var (
	firstLast = regexp.MustCompile(`^bytes=([0-9]{1,18})-([0-9]*)$`)
	suffix    = regexp.MustCompile(`^bytes=-([0-9]{1,18})$`)
)

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, header string, status int) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("Range %q: status %d, want %d", header, rec.Code, status)
	}
}

// checkRangeAnswer checks a GET of data and returns the range it served.
func checkRangeAnswer(t *testing.T, rec *httptest.ResponseRecorder, data []byte) (start, length int64) {
	t.Helper()
	size := int64(len(data))
	h := rec.Header()
	switch rec.Code {
	case 416:
		if got, want := h.Get("Content-Range"), fmt.Sprintf("bytes */%d", size); got != want {
			t.Errorf("416 with Content-Range %q, want %q", got, want)
		}
		if _, _, _, code := errorBody(t, rec); code != "range_not_satisfiable" {
			t.Errorf("416 with code %q", code)
		}
		return 0, 0
	case 200:
		start, length = 0, size
		if h.Get("Content-Range") != "" {
			t.Errorf("200 with Content-Range %q", h.Get("Content-Range"))
		}
	case 206:
		var last, total int64
		cr := h.Get("Content-Range")
		if _, err := fmt.Sscanf(cr, "bytes %d-%d/%d", &start, &last, &total); err != nil ||
			cr != fmt.Sprintf("bytes %d-%d/%d", start, last, total) {
			t.Fatalf("206 with Content-Range %q", cr)
		}
		if total != size || start < 0 || last < start || last >= size {
			t.Fatalf("206 with Content-Range %q for a file of %d bytes", cr, size)
		}
		length = last - start + 1
	}
	if got := h.Get("Content-Type"); got != "application/octet-stream" {
		t.Errorf("download with Content-Type %q", got)
	}
	if got := h.Get("Content-Length"); got != strconv.FormatInt(length, 10) {
		t.Errorf("Content-Length %q for %d bytes", got, length)
	}
	if !bytes.Equal(rec.Body.Bytes(), data[start:start+length]) {
		t.Errorf("%d: served %d bytes that are not bytes %d to %d of the file", rec.Code, rec.Body.Len(), start, start+length)
	}
	return start, length
}

// listedFile is a File of FuzzListFiles' project, in creation order.
type listedFile struct {
	id, purpose string
	deleted     bool
}

// FuzzListFiles sends a query to GET /v1/files over eight Files (one deleted)
// and a File of another project. A 200 is exactly the page the query asks for
// and has_more says whether more follow; a 400 names a parameter that is
// invalid; a valid query is never refused.
func FuzzListFiles(f *testing.F) {
	fs := newFuzzServer(f)
	files := []listedFile{
		{"file-1", "user_data", false}, {"file-2", "batch", false}, {"file-3", "assistants", false},
		{"file-4", "user_data", true}, {"file-5", "fine-tune", false}, {"file-6", "user_data", false},
		{"file-7", "vision", false}, {"file-8", "evals", false},
	}
	for _, lf := range files {
		file, err := fs.svc.CreateFile(fs.ctx, &silo.FileCreate{Filename: lf.id + ".jsonl", Purpose: lf.purpose, Data: bytes.NewReader([]byte(lf.id))})
		if err != nil || file.ID != lf.id {
			f.Fatalf("create %s: %v, %v", lf.id, file, err)
		}
	}
	if err := fs.svc.DeleteFile(fs.ctx, "file-4"); err != nil {
		f.Fatal(err)
	}
	other := silo.WithProject(fs.ctx, "proj_other")
	if file, err := fs.svc.CreateFile(other, &silo.FileCreate{Filename: "x.txt", Purpose: "user_data", Data: bytes.NewReader(nil)}); err != nil || file.ID != "file-9" {
		f.Fatalf("create file-9: %v, %v", file, err)
	}

	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest("GET", "/v1/files", nil)
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+testKey)
		rec := httptest.NewRecorder()
		fs.h.ServeHTTP(rec, req)
		code, param := checkAnswer(t, rec, 200, 400)

		want, bad, emptyIfOK := expectedPage(files, req.URL.Query())
		if rec.Code == 400 {
			if code != "invalid_value" || !slices.Contains(bad, param) {
				t.Errorf("400 %s with param %q, want invalid_value for one of %v", code, param, bad)
			}
			return
		}
		if len(bad) > 0 && !emptyIfOK {
			t.Errorf("200 for a query with invalid %v", bad)
		}
		object(t, rec.Body.Bytes(), listKeys...)
		var got FileListJSON
		decodeBody(t, rec, &got)
		ids := []string{}
		for _, file := range got.Data {
			ids = append(ids, file.ID)
		}
		if emptyIfOK {
			want.ids, want.more = []string{}, false
		}
		if !slices.Equal(ids, want.ids) || got.HasMore != want.more {
			t.Errorf("page %v has_more %v, want %v has_more %v", ids, got.HasMore, want.ids, want.more)
		}
		if n := len(ids); n > 0 && (got.FirstID == nil || *got.FirstID != ids[0] || got.LastID == nil || *got.LastID != ids[n-1]) ||
			n == 0 && (got.FirstID != nil || got.LastID != nil) {
			t.Errorf("first_id/last_id do not name the ends of the page: %s", rec.Body)
		}
	})
}

// page is the ids of a page and whether more follow.
type page struct {
	ids  []string
	more bool
}

// expectedPage computes the answer to a list query over files: the page, or
// the parameters that make it invalid (bad). An unknown purpose is either
// refused or an empty page (emptyIfOK).
func expectedPage(files []listedFile, q url.Values) (want page, bad []string, emptyIfOK bool) {
	limit := silo.MaxListLimit
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > silo.MaxListLimit {
			bad = append(bad, "limit")
		}
		limit = n
	}
	order := q.Get("order")
	if order != "" && order != "asc" && order != "desc" {
		bad = append(bad, "order")
	}
	purpose := q.Get("purpose")
	if purpose != "" && !silo.ValidPurpose(purpose) {
		bad = append(bad, "purpose")
		emptyIfOK = len(bad) == 1
	}
	ordered := slices.Clone(files)
	if order != "asc" {
		slices.Reverse(ordered)
	}
	from := 0
	if after := q.Get("after"); after != "" {
		i := slices.IndexFunc(ordered, func(f listedFile) bool { return f.id == after })
		if i < 0 {
			bad = append(bad, "after")
			emptyIfOK = false
		}
		from = i + 1
	}
	if len(bad) > 0 {
		return page{}, bad, emptyIfOK
	}
	want.ids = []string{}
	for _, f := range ordered[from:] {
		if f.deleted || purpose != "" && f.purpose != purpose {
			continue
		}
		if len(want.ids) == limit {
			want.more = true
			break
		}
		want.ids = append(want.ids, f.id)
	}
	return want, nil, false
}
