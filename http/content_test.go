package http

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/silo-dev/silo"
)

const testContent = "0123456789"

// contentFiles serves testContent as file-abc, named name, and counts opens.
type contentFiles struct {
	name   string
	opens  int
	wrote  bool // the reader's WriteTo was used
	fakeFS *fakeFiles
}

func newContentFiles(name string) *contentFiles {
	c := &contentFiles{name: name}
	file := func() *silo.File {
		return &silo.File{ID: "file-abc", Bytes: int64(len(testContent)), Filename: c.name}
	}
	c.fakeFS = &fakeFiles{
		get: func(ctx context.Context, id string) (*silo.File, error) { return file(), nil },
		open: func(ctx context.Context, id string, offset, length int64) (*silo.File, io.ReadCloser, error) {
			c.opens++
			if offset > int64(len(testContent)) {
				return nil, nil, silo.Errorf(silo.ERANGE, "", "past the end")
			}
			end := int64(len(testContent))
			if length >= 0 {
				end = min(end, offset+length)
			}
			return file(), &writerToReader{Reader: strings.NewReader(testContent[offset:end]), wrote: &c.wrote}, nil
		},
	}
	return c
}

// writerToReader is a blob reader with WriteTo, as the disk store's is.
type writerToReader struct {
	*strings.Reader
	wrote *bool
}

func (w *writerToReader) WriteTo(dst io.Writer) (int64, error) {
	*w.wrote = true
	return w.Reader.WriteTo(dst)
}

func (w *writerToReader) Close() error { return nil }

func TestFileContent(t *testing.T) {
	tests := []struct {
		name, method, rangeHeader string
		status                    int
		body, contentRange        string
		length                    string
	}{
		{"whole", "GET", "", 200, testContent, "", "10"},
		{"range", "GET", "bytes=2-5", 206, "2345", "bytes 2-5/10", "4"},
		{"open range", "GET", "bytes=7-", 206, "789", "bytes 7-9/10", "3"},
		{"end past size", "GET", "bytes=8-100", 206, "89", "bytes 8-9/10", "2"},
		{"suffix", "GET", "bytes=-3", 206, "789", "bytes 7-9/10", "3"},
		{"suffix past size", "GET", "bytes=-30", 206, testContent, "bytes 0-9/10", "10"},
		{"whole as a range", "GET", "bytes=0-", 206, testContent, "bytes 0-9/10", "10"},
		{"multi-range", "GET", "bytes=0-1,4-5", 200, testContent, "", "10"},
		{"malformed", "GET", "bytes=5-2", 200, testContent, "", "10"},
		{"other unit", "GET", "items=1-2", 200, testContent, "", "10"},
		{"garbage", "GET", "bytes=a-b", 200, testContent, "", "10"},
		{"head", "HEAD", "", 200, "", "", "10"},
		{"head range", "HEAD", "bytes=2-5", 206, "", "bytes 2-5/10", "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newContentFiles("report.jsonl")
			h, _ := newTestHandler(t, nil, c.fakeFS)
			hdr := []string{"Accept", "application/binary"}
			if tt.rangeHeader != "" {
				hdr = append(hdr, "Range", tt.rangeHeader)
			}
			res := serve(t, h, tt.method, "/v1/files/file-abc/content", nil, hdr...)
			if res.Code != tt.status {
				t.Fatalf("status: got %d, want %d (body %s)", res.Code, tt.status, res.Body)
			}
			if got := res.Body.String(); got != tt.body {
				t.Errorf("body: got %q, want %q", got, tt.body)
			}
			want := map[string]string{
				"Content-Type":        "application/octet-stream",
				"Content-Length":      tt.length,
				"Accept-Ranges":       "bytes",
				"Content-Range":       tt.contentRange,
				"Content-Disposition": `attachment; filename="report.jsonl"`,
			}
			for k, v := range want {
				if got := res.Header().Get(k); got != v {
					t.Errorf("%s: got %q, want %q", k, got, v)
				}
			}
			if res.Header().Get("X-Request-Id") == "" {
				t.Errorf("x-request-id missing")
			}
			if tt.method == "HEAD" && c.opens != 0 {
				t.Errorf("HEAD opened the blobs %d times, want 0", c.opens)
			}
			if tt.method == "GET" && !c.wrote {
				t.Errorf("the reader's WriteTo was not used: io.Copy lost the sendfile path")
			}
		})
	}
}

func TestFileContent_Unsatisfiable(t *testing.T) {
	for _, r := range []string{"bytes=10-", "bytes=50-60", "bytes=-0"} {
		t.Run(r, func(t *testing.T) {
			c := newContentFiles("a")
			h, _ := newTestHandler(t, nil, c.fakeFS)
			res := serve(t, h, "GET", "/v1/files/file-abc/content", nil, "Range", r)
			wantError(t, res, 416, "range_not_satisfiable", "")
			if got, want := res.Header().Get("Content-Range"), "bytes */10"; got != want {
				t.Errorf("Content-Range: got %q, want %q", got, want)
			}
			if c.opens != 0 {
				t.Errorf("opened the blobs for an unsatisfiable range")
			}
		})
	}
}

func TestFileContent_NotFound(t *testing.T) {
	files := &fakeFiles{open: func(ctx context.Context, id string, offset, length int64) (*silo.File, io.ReadCloser, error) {
		return nil, nil, silo.Errorf(silo.ENOTFOUND, "", "No such file: %s.", id)
	}}
	h, _ := newTestHandler(t, nil, files)
	res := serve(t, h, "GET", "/v1/files/file-nope/content", nil)
	wantError(t, res, 404, "", "file_id")
}

func TestContentDisposition(t *testing.T) {
	tests := []struct{ name, want string }{
		{"a.txt", `attachment; filename="a.txt"`},
		{`evil"; filename="x.html`, `attachment; filename="evil_; filename=_x.html"`},
		{"line\r\nSet-Cookie: a=b", `attachment; filename="line__Set-Cookie: a=b"`},
		{`back\slash/dir`, `attachment; filename="back_slash_dir"`},
		{"", `attachment; filename="file"`},
		{"naïve.txt", `attachment; filename="na_ve.txt"; filename*=UTF-8''na%C3%AFve.txt`},
	}
	for _, tt := range tests {
		if got := contentDisposition(tt.name); got != tt.want {
			t.Errorf("contentDisposition(%q): got %q, want %q", tt.name, got, tt.want)
		}
	}
}
