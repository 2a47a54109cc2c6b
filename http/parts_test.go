package http

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"testing"

	"github.com/silo-dev/silo"
)

// patternReader yields n bytes of a repeating pattern without holding them.
type patternReader struct{ n, off int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// countingReader counts what was read of r.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// form builds a small multipart body of fields; a field whose name starts
// with "@" is sent as a file of that name without the "@".
func form(t *testing.T, fields ...string) (body *bytes.Buffer, contentType string) {
	t.Helper()
	body = &bytes.Buffer{}
	mw := multipart.NewWriter(body)
	for i := 0; i+1 < len(fields); i += 2 {
		name, value := fields[i], fields[i+1]
		var w io.Writer
		var err error
		if name[0] == '@' {
			w, err = mw.CreateFormFile(name[1:], "hello.txt")
		} else {
			w, err = mw.CreateFormField(name)
		}
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, value)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return body, mw.FormDataContentType()
}

// partRecorder is an AddPart that reads the whole part, as a store does, and
// remembers what it read and how reading ended.
type partRecorder struct {
	id   string
	data []byte
	n    int64
	err  error
}

func (p *partRecorder) addPart(keep bool) func(context.Context, string, io.Reader) (*silo.Part, error) {
	return func(ctx context.Context, id string, data io.Reader) (*silo.Part, error) {
		p.id = id
		var buf bytes.Buffer
		var w io.Writer = io.Discard
		if keep {
			w = &buf
		}
		p.n, p.err = io.Copy(w, data)
		p.data = buf.Bytes()
		if p.err != nil {
			return nil, p.err
		}
		return &silo.Part{ID: "part_1", UploadID: id, Size: p.n, CreatedAt: testNow.Unix()}, nil
	}
}

func TestAddPart(t *testing.T) {
	rec := &partRecorder{}
	h, _ := newTestHandler(t, &fakeUploads{addPart: rec.addPart(true)}, nil)
	body, ct := form(t, "other", "ignored", "@data", "the bytes of the part")
	res := serve(t, h, "POST", "/v1/uploads/upload_abc/parts", body, "Content-Type", ct)
	var p PartJSON
	decodeBody(t, res, &p)
	want := PartJSON{ID: "part_1", Object: "upload.part", CreatedAt: testNow.Unix(), UploadID: "upload_abc"}
	if p != want {
		t.Errorf("part: got %+v, want %+v", p, want)
	}
	if got, want := string(rec.data), "the bytes of the part"; got != want {
		t.Errorf("data: got %q, want %q", got, want)
	}
}

func TestAddPart_BadBody(t *testing.T) {
	noData, noDataCT := form(t, "other", "x")
	cut, cutCT := form(t, "@data", "some bytes")
	tests := []struct {
		name        string
		body        io.Reader
		contentType string
		code, param string
	}{
		{"not multipart", bytes.NewBufferString("raw"), "application/octet-stream", "invalid_value", ""},
		{"no content type", bytes.NewBufferString("raw"), "", "invalid_value", ""},
		{"no data field", noData, noDataCT, "missing_required_parameter", "data"},
		{"cut short", bytes.NewReader(cut.Bytes()[:cut.Len()-20]), cutCT, "invalid_value", "data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &partRecorder{}
			h, _ := newTestHandler(t, &fakeUploads{addPart: rec.addPart(false)}, nil)
			res := serve(t, h, "POST", "/v1/uploads/upload_abc/parts", tt.body, "Content-Type", tt.contentType)
			wantError(t, res, 400, tt.code, tt.param)
		})
	}
}

// TestAddPart_Limit runs the handler over the real service: the limit is the
// service's, and the handler only answers it and closes the connection.
func TestAddPart_Limit(t *testing.T) {
	tests := []struct {
		name   string
		size   int64
		status int
	}{
		{"at the limit", silo.MaxPartBytes, 200},
		{"one byte over", silo.MaxPartBytes + 1, 413},
		{"far over", silo.MaxPartBytes + 16<<20, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, blobs, uploadID := newServiceHandler(t, 2*silo.MaxPartBytes)
			mb, err := newMultipartBody(nil, "data", "blob", &patternReader{n: tt.size})
			if err != nil {
				t.Fatal(err)
			}
			sent := &countingReader{r: mb.r}
			res := serve(t, h, "POST", "/v1/uploads/"+uploadID+"/parts", sent, "Content-Type", mb.contentType)
			if tt.status == 200 {
				if res.Code != 200 {
					t.Fatalf("got status %d (%s), want 200", res.Code, res.Body)
				}
				if got := blobs.Len(); got != 1 {
					t.Errorf("blobs stored: got %d, want 1", got)
				}
				return
			}
			wantError(t, res, 413, "part_too_large", "data")
			if got := res.Header().Get("Connection"); got != "close" {
				t.Errorf("Connection: got %q, want close", got)
			}
			if limit := silo.MaxPartBytes + 1<<20; sent.n > limit {
				t.Errorf("the handler read %d bytes of the body, want at most about the limit (%d)", sent.n, limit)
			}
			if got := blobs.Len(); got != 0 {
				t.Errorf("blobs stored: got %d, want 0", got)
			}
		})
	}
}

// errReader fails every read, as a body whose client hung up does.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
