package http

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/silo-dev/silo"
)

// seenRequest is what the server saw of a request's framing.
type seenRequest struct {
	contentLength    int64
	transferEncoding []string
}

// newTestClient starts the handler over the fakes on 127.0.0.1 and returns a
// Client of it with testKey, and a function returning the framing of the last
// request the server got.
func newTestClient(t *testing.T, u *fakeUploads, f *fakeFiles) (*Client, func() seenRequest) {
	t.Helper()
	h, _ := newTestHandler(t, u, f)
	var mu sync.Mutex
	var last seenRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = seenRequest{r.ContentLength, r.TransferEncoding}
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return NewClient(srv.URL+"/v1/", testKey, srv.Client()), func() seenRequest {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

func TestClient_Uploads(t *testing.T) {
	ctx := context.Background()
	var gotCreate *silo.UploadCreate
	parts := &partRecorder{}
	var gotParts []string
	var gotMD5 string
	uploads := &fakeUploads{
		create: func(ctx context.Context, r *silo.UploadCreate) (*silo.Upload, error) {
			gotCreate = r
			return testUpload(), nil
		},
		addPart: parts.addPart(true),
		complete: func(ctx context.Context, id string, partIDs []string, md5 string) (*silo.Upload, error) {
			gotParts, gotMD5 = partIDs, md5
			u := testUpload()
			u.Status = silo.StatusCompleted
			u.File = &silo.File{ID: "file-abc", Bytes: 10, Filename: u.Filename, Purpose: u.Purpose, CreatedAt: u.CreatedAt}
			return u, nil
		},
		cancel: func(ctx context.Context, id string) (*silo.Upload, error) {
			u := testUpload()
			u.Status = silo.StatusCancelled
			return u, nil
		},
	}
	c, seen := newTestClient(t, uploads, nil)

	create := &silo.UploadCreate{Filename: "a.jsonl", Purpose: "batch", Bytes: 10, MimeType: "text/jsonl",
		ExpiresAfter: &silo.ExpiresAfter{Anchor: "created_at", Seconds: 3600}}
	u, err := c.CreateUpload(ctx, create)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotCreate, create) {
		t.Errorf("server got %+v, want %+v", gotCreate, create)
	}
	want := testUpload()
	want.Project, want.MimeType = "", ""
	if !reflect.DeepEqual(u, want) {
		t.Errorf("upload: got %+v, want %+v", u, want)
	}

	p, err := c.AddPart(ctx, "upload_abc", bytes.NewReader([]byte("0123456789")))
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "part_1" || p.UploadID != "upload_abc" || string(parts.data) != "0123456789" {
		t.Errorf("part: got %+v with data %q, want part_1 of upload_abc with 0123456789", p, parts.data)
	}
	if s := seen(); s.contentLength <= 10 || len(s.transferEncoding) != 0 {
		t.Errorf("a part of known size was sent with Content-Length %d, Transfer-Encoding %v; want an exact length", s.contentLength, s.transferEncoding)
	}
	if _, err := c.AddPart(ctx, "upload_abc", io.MultiReader(strings.NewReader("01234"), strings.NewReader("56789"))); err != nil {
		t.Fatal(err)
	}
	if s := seen(); s.contentLength != -1 || !reflect.DeepEqual(s.transferEncoding, []string{"chunked"}) {
		t.Errorf("a part of unknown size: got Content-Length %d, Transfer-Encoding %v; want chunked", s.contentLength, s.transferEncoding)
	}
	if string(parts.data) != "0123456789" {
		t.Errorf("chunked part data: got %q", parts.data)
	}

	u, err = c.CompleteUpload(ctx, "upload_abc", []string{"part_1"}, "0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != silo.StatusCompleted || u.File == nil || u.File.ID != "file-abc" ||
		!reflect.DeepEqual(gotParts, []string{"part_1"}) || gotMD5 != "0123456789abcdef0123456789abcdef" {
		t.Errorf("complete: got %+v (server got %v %q)", u, gotParts, gotMD5)
	}
	if _, err := c.CompleteUpload(ctx, "upload_abc", nil, ""); err != nil {
		t.Errorf("complete with no parts: %v", err)
	}
	if gotParts == nil || len(gotParts) != 0 {
		t.Errorf("complete with no parts: server got %#v, want []", gotParts)
	}

	u, err = c.CancelUpload(ctx, "upload_abc")
	if err != nil || u.Status != silo.StatusCancelled {
		t.Errorf("cancel: got %+v, %v; want cancelled", u, err)
	}
}

func TestClient_Files(t *testing.T) {
	ctx := context.Background()
	rec := &fileRecorder{}
	var gotQuery silo.FileQuery
	var deleted string
	content := newContentFiles("hello.txt")
	files := content.fakeFS
	files.create = rec.create
	files.list = func(ctx context.Context, q silo.FileQuery) (*silo.FileList, error) {
		gotQuery = q
		return &silo.FileList{Files: []*silo.File{{ID: "file-a"}, {ID: "file-b"}}, HasMore: true}, nil
	}
	files.delete = func(ctx context.Context, id string) error {
		deleted = id
		return nil
	}
	c, seen := newTestClient(t, nil, files)

	path := filepath.Join(t.TempDir(), "hello.txt")
	if err := os.WriteFile(path, []byte("hi there"), 0o600); err != nil {
		t.Fatal(err)
	}
	osf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer osf.Close()
	f, err := c.CreateFile(ctx, &silo.FileCreate{Filename: "hello.txt", Purpose: "batch", Data: osf,
		ExpiresAfter: &silo.ExpiresAfter{Anchor: "created_at", Seconds: 7200}})
	if err != nil {
		t.Fatal(err)
	}
	wantReq := silo.FileCreate{Filename: "hello.txt", Purpose: "batch",
		ExpiresAfter: &silo.ExpiresAfter{Anchor: "created_at", Seconds: 7200}}
	if !reflect.DeepEqual(rec.req, wantReq) || rec.data != "hi there" {
		t.Errorf("server got %+v with %q, want %+v with %q", rec.req, rec.data, wantReq, "hi there")
	}
	if f.ID != "file-abc" || f.ExpiresAt != testNow.Unix()+7200 || f.Bytes != 8 {
		t.Errorf("file: got %+v", f)
	}
	if s := seen(); s.contentLength <= 8 || len(s.transferEncoding) != 0 {
		t.Errorf("an *os.File was sent with Content-Length %d, Transfer-Encoding %v; want an exact length", s.contentLength, s.transferEncoding)
	}

	l, err := c.ListFiles(ctx, silo.FileQuery{Purpose: "batch", Limit: 5, Order: "asc", After: "file-0"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (silo.FileQuery{Purpose: "batch", Limit: 5, Order: "asc", After: "file-0"}); gotQuery != want {
		t.Errorf("list query: got %+v, want %+v", gotQuery, want)
	}
	if len(l.Files) != 2 || l.Files[1].ID != "file-b" || !l.HasMore {
		t.Errorf("list: got %+v", l)
	}

	if err := c.DeleteFile(ctx, "file-abc"); err != nil || deleted != "file-abc" {
		t.Errorf("delete: got %v, server deleted %q", err, deleted)
	}

	got, err := c.GetFile(ctx, "file-abc")
	if err != nil || got.Filename != "hello.txt" || got.Bytes != 10 {
		t.Errorf("get: got %+v, %v", got, err)
	}
}

func TestClient_OpenFile(t *testing.T) {
	tests := []struct {
		offset, length int64
		want           string
	}{
		{0, -1, testContent},
		{0, 10, testContent},
		{2, 4, "2345"},
		{7, -1, "789"},
		{8, 100, "89"},
		{10, -1, ""},
		{3, 0, ""},
	}
	content := newContentFiles("a")
	c, _ := newTestClient(t, nil, content.fakeFS)
	for _, tt := range tests {
		f, rc, err := c.OpenFile(context.Background(), "file-abc", tt.offset, tt.length)
		if err != nil {
			t.Errorf("OpenFile(%d, %d): %v", tt.offset, tt.length, err)
			continue
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if string(b) != tt.want || err != nil || f.ID != "file-abc" {
			t.Errorf("OpenFile(%d, %d): got %q, %v, want %q", tt.offset, tt.length, b, err, tt.want)
		}
	}
	_, _, err := c.OpenFile(context.Background(), "file-abc", 11, -1)
	if got := silo.ErrorCode(err); got != silo.ERANGE {
		t.Errorf("OpenFile past the end: got %v, want %s", err, silo.ERANGE)
	}
}

func TestClient_OpenFileRangeIgnored(t *testing.T) {
	// A server that answers every Range with the whole file.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/content") {
			io.WriteString(w, testContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"file-abc","object":"file","bytes":10,"created_at":1,"filename":"a","purpose":"batch","status":"processed","expires_at":null,"status_details":null}`)
	}))
	defer srv.Close()
	c := NewClient(srv.URL+"/v1", "k", srv.Client())
	_, rc, err := c.OpenFile(context.Background(), "file-abc", 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "3456" {
		t.Errorf("got %q, want %q", b, "3456")
	}
}

func TestClient_Errors(t *testing.T) {
	tests := []struct {
		code, param string
		message     string
	}{
		{silo.ENOTFOUND, "file_id", "No such file."},
		{silo.EINVALID, "limit", "Bad limit."},
		{silo.EMISSING, "purpose", "Missing purpose."},
		{silo.EUPLOADEXPIRED, "", "Expired."},
		{silo.EPARTTOOLARGE, "data", "Too large."},
		{silo.ERANGE, "", "Bad range."},
		{silo.ESTORAGEFULL, "", "Disk full."},
		{silo.EQUOTA, "", "Over quota."},
		{silo.EUNAVAILABLE, "", "Database down."},
		{silo.EINTERNAL, "", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			files := &fakeFiles{get: func(ctx context.Context, id string) (*silo.File, error) {
				return nil, silo.Errorf(tt.code, tt.param, "%s", tt.message)
			}}
			c, _ := newTestClient(t, nil, files)
			_, err := c.GetFile(context.Background(), "file-x")
			want := &silo.Error{Code: tt.code, Param: tt.param, Message: tt.message}
			var got *silo.Error
			if !errors.As(err, &got) || *got != *want {
				t.Errorf("got %#v, want %#v", err, want)
			}
			var re *ResponseError
			if tt.code == silo.EQUOTA && (!errors.As(err, &re) || re.Retryable()) {
				t.Errorf("%s: got %#v, want a ResponseError not to retry", tt.code, err)
			}
		})
	}
}

func TestClient_WrongKey(t *testing.T) {
	c, _ := newTestClient(t, nil, nil)
	c.apiKey = "sk-wrong"
	_, err := c.ListFiles(context.Background(), silo.FileQuery{})
	if got := silo.ErrorCode(err); got != silo.EUNAUTHORIZED {
		t.Errorf("got %v, want %s", err, silo.EUNAUTHORIZED)
	}
}

func TestClient_UnexpectedAnswer(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		status                  int
	}{
		{"proxy page", "text/html", "<html>Bad Gateway</html>", 502},
		{"json without envelope", "application/json", `{"detail":"nope"}`, 400},
		{"200 not json", "text/plain", "hello", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			_, err := NewClient(srv.URL+"/v1", "k", srv.Client()).GetFile(context.Background(), "file-x")
			var se *silo.Error
			if err == nil || errors.As(err, &se) {
				t.Fatalf("got %v, want a plain error", err)
			}
			if !strings.Contains(err.Error(), http.StatusText(tt.status)) {
				t.Errorf("error %q does not name the status %d", err, tt.status)
			}
		})
	}
}

func TestClient_PartTooLarge(t *testing.T) {
	tests := []struct {
		name  string
		known bool
		size  int64
	}{
		{"known size", true, silo.MaxPartBytes + 1},
		{"chunked", false, silo.MaxPartBytes + 1},
		// The server answers and closes long before the client is done.
		{"far over", true, silo.MaxPartBytes + 32<<20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The limit is the service's: the real one, over inmem.
			h, blobs, id := newServiceHandler(t, 2*silo.MaxPartBytes)
			srv := httptest.NewServer(h)
			defer srv.Close()
			c := NewClient(srv.URL+"/v1", testKey, srv.Client())
			var data io.Reader = &patternReader{n: tt.size}
			if tt.known {
				data = io.NewSectionReader(patternReaderAt{}, 0, tt.size)
			}
			_, err := c.AddPart(context.Background(), id, data)
			var se *silo.Error
			if !errors.As(err, &se) || se.Code != silo.EPARTTOOLARGE || se.Param != "data" {
				t.Errorf("got %v, want part_too_large for data", err)
			}
			if got := blobs.Len(); got != 0 {
				t.Errorf("blobs stored: got %d, want 0", got)
			}
		})
	}
}

// patternReaderAt is patternReader's bytes at any offset.
type patternReaderAt struct{}

func (patternReaderAt) ReadAt(b []byte, off int64) (int, error) {
	for i := range b {
		b[i] = byte((off + int64(i)) % 251)
	}
	return len(b), nil
}

func TestSizeOf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	osf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer osf.Close()
	osf.Seek(4, io.SeekStart)
	read := bytes.NewReader([]byte("0123456789"))
	read.Seek(3, io.SeekStart)
	section := io.NewSectionReader(strings.NewReader("0123456789"), 2, 6)
	section.Seek(1, io.SeekStart)
	pr, pw := io.Pipe()
	defer pw.Close()
	tests := []struct {
		name string
		r    io.Reader
		want int64
	}{
		{"bytes.Reader", read, 7},
		{"strings.Reader", strings.NewReader("abc"), 3},
		{"bytes.Buffer", bytes.NewBufferString("abcd"), 4},
		{"os.File", osf, 6},
		{"SectionReader", section, 5},
		{"LimitedReader", io.LimitReader(strings.NewReader("abcdef"), 4), 4},
		{"LimitedReader past", io.LimitReader(strings.NewReader("ab"), 4), 2},
		{"LimitedReader unknown", io.LimitReader(pr, 4), -1},
		{"pipe", pr, -1},
		{"MultiReader", io.MultiReader(strings.NewReader("a")), -1},
	}
	for _, tt := range tests {
		if got := sizeOf(tt.r); got != tt.want {
			t.Errorf("sizeOf(%s): got %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestClient_RejectedPartGetsTheAnswer(t *testing.T) {
	uploads := &fakeUploads{addPart: func(ctx context.Context, id string, data io.Reader) (*silo.Part, error) {
		// Refused before a byte is read, as a completed Upload's part is.
		return nil, silo.NotPendingError(id, silo.StatusCompleted)
	}}
	c, _ := newTestClient(t, uploads, nil)
	_, err := c.AddPart(context.Background(), "upload_abc", io.NewSectionReader(patternReaderAt{}, 0, 8<<20))
	if got := silo.ErrorCode(err); got != silo.EUPLOADCOMPLETED {
		t.Errorf("got %v, want %s", err, silo.EUPLOADCOMPLETED)
	}
}
