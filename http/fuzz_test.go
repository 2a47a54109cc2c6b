package http

// The fuzz targets (fuzz_*_test.go) drive the real handler over the real
// service and the inmem stores, one fresh server per input, and check what a
// client and the stores see: every answer is JSON with an x-request-id, every
// error an envelope whose status, type and code agree with errorTable, nothing
// is stored by a refused request, and what is stored is what was sent. Their
// seed corpora are in testdata/fuzz/<FuzzName>/ and run with every go test;
// .ci/run also fuzzes each target for a few seconds:
//
//	go test -run '^$' -fuzz '^FuzzAddPart$' -fuzztime 10s ./http/

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/service"
)

// fuzzServer is the handler over a service over inmem stores, with ids that
// count per prefix ("upload_1", "part_1", "part_2", "file-1"), so that seeds
// can name the records a target made before sending its input.
type fuzzServer struct {
	h     http.Handler
	svc   *service.Service
	meta  *inmem.MetaStore
	blobs *inmem.BlobStore
	ctx   context.Context // testProject's
}

func newFuzzServer(t testing.TB) *fuzzServer {
	t.Helper()
	var mu sync.Mutex
	counts := map[string]int{}
	newID := func(prefix string) string {
		mu.Lock()
		defer mu.Unlock()
		counts[prefix]++
		return fmt.Sprintf("%s%d", prefix, counts[prefix])
	}
	now := func() time.Time { return testNow }
	fs := &fuzzServer{
		meta:  inmem.NewMetaStore(),
		blobs: inmem.NewBlobStore(),
		ctx:   silo.WithProject(context.Background(), testProject),
	}
	fs.blobs.Now = now
	fs.svc = service.New(fs.meta, fs.blobs, service.Config{Now: now, NewID: newID})
	fs.h = NewHandler(Config{
		Uploads: fs.svc,
		Files:   fs.svc,
		Auth:    NewKeyring(map[string]string{testKey: testProject}),
		Now:     now,
	})
	return fs
}

// blobCount returns how many blobs the blob store holds.
func (fs *fuzzServer) blobCount(t *testing.T) int {
	t.Helper()
	n := 0
	if err := fs.blobs.List(fs.ctx, func(string, time.Time) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// blob returns the bytes of a stored blob.
func (fs *fuzzServer) blob(t *testing.T, key string) []byte {
	t.Helper()
	rc, err := fs.blobs.Open(fs.ctx, key, 0, -1)
	if err != nil {
		t.Fatalf("open blob %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read blob %s: %v", key, err)
	}
	return b
}

// content returns the bytes GET /v1/files/{id}/content answers.
func (fs *fuzzServer) content(t *testing.T, id string) []byte {
	t.Helper()
	rec := serve(t, fs.h, "GET", "/v1/files/"+id+"/content", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("content of %s: status %d (body %.300s)", id, rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// checkAnswer checks what every answer of the API must be: a status among
// allowed, an x-request-id, and JSON; an error must be an envelope that
// agrees with errorTable. It returns the error's code and param ("" for null).
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, allowed ...int) (code, param string) {
	t.Helper()
	if rec.Header().Get("X-Request-Id") == "" {
		t.Errorf("status %d without x-request-id", rec.Code)
	}
	if !slices.Contains(allowed, rec.Code) {
		t.Fatalf("status %d, want one of %v (body %.500s)", rec.Code, allowed, rec.Body)
	}
	if rec.Code < 400 {
		return "", ""
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("error with Content-Type %q, want application/json", got)
	}
	msg, typ, param, code := errorBody(t, rec)
	if msg == "" {
		t.Errorf("error %d %q with an empty message", rec.Code, code)
	}
	known := false
	for _, r := range errorTable {
		if r.wire == code && r.status == rec.Code && r.typ == typ {
			known = true
		}
	}
	if !known {
		t.Errorf("error status %d, type %q, code %q: no such row in errorTable (message %q)", rec.Code, typ, code, msg)
	}
	return code, param
}

// object decodes a JSON object answer and checks that it has exactly keys.
func object(t *testing.T, b []byte, keys ...string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer %.500q: %v", b, err)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("answer %.500q: key %q missing", b, k)
		}
	}
	if len(m) != len(keys) {
		t.Errorf("answer %.500q: %d keys, want %d (%v)", b, len(m), len(keys), keys)
	}
	return m
}

// Keys of the objects of the API, as docs/API.md lists them.
var (
	uploadKeys = []string{"id", "object", "bytes", "created_at", "expires_at", "filename", "purpose", "status", "file"}
	partKeys   = []string{"id", "object", "created_at", "upload_id"}
	fileKeys   = []string{"id", "object", "bytes", "created_at", "filename", "purpose", "status", "expires_at", "status_details"}
	listKeys   = []string{"object", "data", "first_id", "last_id", "has_more"}
)

// checkFile checks the keys and fixed values of a File object and returns it.
func checkFile(t *testing.T, b []byte) FileJSON {
	t.Helper()
	object(t, b, fileKeys...)
	var f FileJSON
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("file %.500q: %v", b, err)
	}
	if f.Object != "file" || f.Status != "processed" || f.StatusDetails != nil || !strings.HasPrefix(f.ID, silo.FileIDPrefix) {
		t.Errorf("file %.500q: want object file, status processed, status_details null, id file-…", b)
	}
	if !silo.ValidPurpose(f.Purpose) {
		t.Errorf("file %.500q: purpose %q is not one a File can be created with", b, f.Purpose)
	}
	return f
}

// jsonString returns s as a client reads it back from JSON: invalid UTF-8
// becomes U+FFFD.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	var back string
	json.Unmarshal(b, &back)
	return back
}

// formField is one field of a multipart body as the reference reading of
// readForm saw it.
type formField struct {
	name, filename string
	data           []byte
	headerBytes    int // the size of its header block, roughly
}

// readForm reads a multipart/form-data body with mime/multipart alone: the
// reference that the handlers' streaming reading is checked against. err is
// why reading stopped before the end (nil for a well-formed body), and
// fields are those read whole before that.
func readForm(contentType string, body []byte) (fields []formField, err error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, err
	}
	if mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, fmt.Errorf("not multipart/form-data with a boundary: %q", contentType)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return fields, nil
		}
		if err != nil {
			return fields, err
		}
		f := formField{name: p.FormName(), filename: p.FileName()}
		for k, vs := range p.Header {
			for _, v := range vs {
				f.headerBytes += len(k) + len(v) + 4
			}
		}
		if f.data, err = io.ReadAll(p); err != nil {
			return fields, err
		}
		fields = append(fields, f)
	}
}

// named returns the fields called name.
func named(fields []formField, name string) []formField {
	var out []formField
	for _, f := range fields {
		if f.name == name {
			out = append(out, f)
		}
	}
	return out
}

// plain reports whether every field but the file field is small enough for
// any reading of the form (64 KiB a value) and every header block is short:
// a form a client library would send.
func plain(fields []formField, file string) bool {
	for _, f := range fields {
		if f.headerBytes > 4<<10 || f.name != file && len(f.data) > maxFieldBytes {
			return false
		}
	}
	return true
}
