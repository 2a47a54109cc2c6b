package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/silo-dev/silo"
)

func TestAddPart_RefusedBeforeTheBody(t *testing.T) {
	h, blobs, _ := newServiceHandler(t, 10)
	res := serve(t, h, "POST", "/v1/uploads/upload_unknown/parts", failReader{t},
		"Content-Type", "multipart/form-data; boundary=x")
	wantError(t, res, 404, "", "upload_id")
	if got := blobs.Len(); got != 0 {
		t.Errorf("blobs: got %d, want 0", got)
	}
}

// rawForm builds a multipart body from raw parts: each a header block and a body.
func rawForm(t *testing.T, parts ...[2]string) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", p[0])
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p[1])
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func TestAddPart_Form(t *testing.T) {
	long := strings.Repeat("n", 1<<20)
	tests := []struct {
		name        string
		parts       [][2]string
		status      int
		code, param string
	}{
		{"fields around data", [][2]string{{`form-data; name="x"`, "1"}, {`form-data; name="data"; filename="b"`, "0123456789"}, {`form-data; name="y"`, "2"}}, 200, "", ""},
		{"two data fields", [][2]string{{`form-data; name="data"; filename="b"`, "01234"}, {`form-data; name="data"; filename="b"`, "56789"}}, 400, "invalid_value", "data"},
		{"a field header of 1 MiB", [][2]string{{`form-data; name="data"; filename="` + long + `"`, "0123456789"}}, 400, "invalid_value", ""},
		{"a field of 1 MiB", [][2]string{{`form-data; name="x"`, long}, {`form-data; name="data"; filename="b"`, "0123456789"}}, 400, "invalid_value", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, blobs, id := newServiceHandler(t, 10)
			body, ct := rawForm(t, tt.parts...)
			size := body.Len()
			sent := &countingReader{r: body}
			res := serve(t, h, "POST", "/v1/uploads/"+id+"/parts", sent, "Content-Type", ct)
			if tt.status == 200 {
				if res.Code != 200 {
					t.Fatalf("got %d %s, want 200", res.Code, res.Body)
				}
				if got := blobs.Len(); got != 1 {
					t.Errorf("blobs: got %d, want 1", got)
				}
				return
			}
			wantError(t, res, tt.status, tt.code, tt.param)
			if got := blobs.Len(); got != 0 {
				t.Errorf("blobs: got %d, want 0", got)
			}
			if size > 1<<20 && sent.n > 512<<10 {
				t.Errorf("read %d bytes of a %d-byte body, want the reading to stop early", sent.n, size)
			}
		})
	}
}

func TestAddPart_TooManyFields(t *testing.T) {
	h, _, id := newServiceHandler(t, 1)
	var parts [][2]string
	for i := 0; i < maxFormFields+1; i++ {
		parts = append(parts, [2]string{fmt.Sprintf(`form-data; name="f%d"`, i), "v"})
	}
	parts = append(parts, [2]string{`form-data; name="data"; filename="b"`, "x"})
	body, ct := rawForm(t, parts...)
	res := serve(t, h, "POST", "/v1/uploads/"+id+"/parts", body, "Content-Type", ct)
	wantError(t, res, 400, "invalid_value", "")
}

func TestFilenameLimit(t *testing.T) {
	h, _, _ := newServiceHandler(t, 1)
	for _, tt := range []struct {
		n      int
		status int
	}{{silo.MaxFilenameBytes, 200}, {silo.MaxFilenameBytes + 1, 400}} {
		name := strings.Repeat("é", tt.n/2) + strings.Repeat("a", tt.n%2)
		t.Run(fmt.Sprintf("uploads %d bytes", tt.n), func(t *testing.T) {
			b, _ := json.Marshal(map[string]any{"filename": name, "purpose": "user_data", "bytes": 1, "mime_type": "text/plain"})
			res := serve(t, h, "POST", "/v1/uploads", b, "Content-Type", "application/json")
			if tt.status == 200 && res.Code != 200 {
				t.Fatalf("got %d %s, want 200", res.Code, res.Body)
			}
			if tt.status == 400 {
				wantError(t, res, 400, "invalid_value", "filename")
			}
		})
		t.Run(fmt.Sprintf("files %d bytes", tt.n), func(t *testing.T) {
			body, ct := rawForm(t, [2]string{`form-data; name="purpose"`, "user_data"},
				[2]string{`form-data; name="file"; filename="` + name + `"`, "hello"})
			res := serve(t, h, "POST", "/v1/files", body, "Content-Type", ct)
			if tt.status == 200 && res.Code != 200 {
				t.Fatalf("got %d %s, want 200", res.Code, res.Body)
			}
			if tt.status == 400 {
				wantError(t, res, 400, "invalid_value", "file")
			}
		})
	}
}

func TestContentDisposition_Bounded(t *testing.T) {
	for _, name := range []string{
		strings.Repeat("a", silo.MaxFilenameBytes) + ".jsonl",
		strings.Repeat("日本", 2000) + ".txt",
		strings.Repeat("\"", 70000),
	} {
		got := contentDisposition(name)
		if len(got) > 4<<10 {
			t.Errorf("Content-Disposition for a %d-byte name is %d bytes, want at most 4 KiB", len(name), len(got))
		}
		if !strings.HasPrefix(got, `attachment; filename="`) {
			t.Errorf("got %.80q, want an attachment with a plain filename", got)
		}
	}
	if got, want := contentDisposition("notes.pdf"), `attachment; filename="notes.pdf"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	long := strings.Repeat("a", 500) + ".jsonl"
	if got := contentDisposition(long); !strings.Contains(got, `.jsonl"`) || !strings.Contains(got, "filename*=UTF-8''"+long) {
		t.Errorf("a long name: got %q, want a shortened plain name that keeps .jsonl and the exact name in filename*", got)
	}
}

func TestWriteFileList_SameAsFileListJSON(t *testing.T) {
	for _, l := range []*silo.FileList{
		{},
		{Files: []*silo.File{{ID: "file-a", Filename: "x\"<y>", Purpose: "batch", Bytes: 3, CreatedAt: 5, ExpiresAt: 9}}, HasMore: true},
		{Files: []*silo.File{{ID: "file-a", Filename: "a"}, {ID: "file-b", Filename: "b"}}},
	} {
		rec := serveFunc(func(w *recorder) { writeFileList(w, l) })
		want, _ := json.Marshal(NewFileListJSON(l))
		if got := strings.TrimSpace(rec); got != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func TestBodySlots(t *testing.T) {
	b := newBodySlots(1)
	b.wait = 10 * time.Millisecond
	done, err := b.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.acquire(context.Background()); silo.ErrorCode(err) != silo.EUNAVAILABLE {
		t.Errorf("second acquire: got %v, want service_unavailable", err)
	}
	done()
	again, err := b.acquire(context.Background())
	if err != nil {
		t.Errorf("acquire after release: %v", err)
	} else {
		again()
	}
}
