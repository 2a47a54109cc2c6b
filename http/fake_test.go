package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silo-dev/silo"
)

// errUnset is what a fake returns for a method the test did not set.
var errUnset = errors.New("fake: method not set by the test")

// fakeUploads is a silo.UploadService of function fields.
type fakeUploads struct {
	create   func(ctx context.Context, r *silo.UploadCreate) (*silo.Upload, error)
	addPart  func(ctx context.Context, id string, data io.Reader) (*silo.Part, error)
	complete func(ctx context.Context, id string, partIDs []string, md5 string) (*silo.Upload, error)
	cancel   func(ctx context.Context, id string) (*silo.Upload, error)
}

func (f *fakeUploads) CreateUpload(ctx context.Context, r *silo.UploadCreate) (*silo.Upload, error) {
	if f.create == nil {
		return nil, errUnset
	}
	return f.create(ctx, r)
}

func (f *fakeUploads) AddPart(ctx context.Context, id string, data io.Reader) (*silo.Part, error) {
	if f.addPart == nil {
		return nil, errUnset
	}
	return f.addPart(ctx, id, data)
}

func (f *fakeUploads) CompleteUpload(ctx context.Context, id string, partIDs []string, md5 string) (*silo.Upload, error) {
	if f.complete == nil {
		return nil, errUnset
	}
	return f.complete(ctx, id, partIDs, md5)
}

func (f *fakeUploads) CancelUpload(ctx context.Context, id string) (*silo.Upload, error) {
	if f.cancel == nil {
		return nil, errUnset
	}
	return f.cancel(ctx, id)
}

// fakeFiles is a silo.FileService of function fields.
type fakeFiles struct {
	create func(ctx context.Context, r *silo.FileCreate) (*silo.File, error)
	get    func(ctx context.Context, id string) (*silo.File, error)
	list   func(ctx context.Context, q silo.FileQuery) (*silo.FileList, error)
	delete func(ctx context.Context, id string) error
	open   func(ctx context.Context, id string, offset, length int64) (*silo.File, io.ReadCloser, error)
}

func (f *fakeFiles) CreateFile(ctx context.Context, r *silo.FileCreate) (*silo.File, error) {
	if f.create == nil {
		return nil, errUnset
	}
	return f.create(ctx, r)
}

func (f *fakeFiles) GetFile(ctx context.Context, id string) (*silo.File, error) {
	if f.get == nil {
		return nil, errUnset
	}
	return f.get(ctx, id)
}

func (f *fakeFiles) ListFiles(ctx context.Context, q silo.FileQuery) (*silo.FileList, error) {
	if f.list == nil {
		return nil, errUnset
	}
	return f.list(ctx, q)
}

func (f *fakeFiles) DeleteFile(ctx context.Context, id string) error {
	if f.delete == nil {
		return errUnset
	}
	return f.delete(ctx, id)
}

func (f *fakeFiles) OpenFile(ctx context.Context, id string, offset, length int64) (*silo.File, io.ReadCloser, error) {
	if f.open == nil {
		return nil, nil, errUnset
	}
	return f.open(ctx, id, offset, length)
}

// testKey is the API key of project testProject in every test handler.
const (
	testKey     = "sk-test"
	testProject = "proj_test"
)

// testNow is the clock of every test handler.
var testNow = time.Unix(1_700_000_000, 0)

// syncBuffer is a log destination that handlers may write from any goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestHandler returns the handler over the fakes (nil: empty fakes), with
// testKey as its one key; logs go to the returned buffer.
func newTestHandler(t *testing.T, u *fakeUploads, f *fakeFiles) (http.Handler, *syncBuffer) {
	t.Helper()
	if u == nil {
		u = &fakeUploads{}
	}
	if f == nil {
		f = &fakeFiles{}
	}
	logs := &syncBuffer{}
	h := NewHandler(Config{
		Uploads: u,
		Files:   f,
		Auth:    NewKeyring(map[string]string{testKey: testProject}),
		Logger:  slog.New(slog.NewTextHandler(logs, nil)),
		Now:     func() time.Time { return testNow },
	})
	return h, logs
}

// serve sends a request with testKey to h and returns the recorded answer.
// body may be a string, []byte, io.Reader or nil.
func serve(t *testing.T, h http.Handler, method, path string, body any, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	case io.Reader:
		r = b
	default:
		t.Fatalf("serve: body of type %T", body)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Authorization", "Bearer "+testKey)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// errorBody decodes an error envelope, failing the test unless it has exactly
// the four keys; param and code are "" for null.
func errorBody(t *testing.T, rec *httptest.ResponseRecorder) (message, typ, param, code string) {
	t.Helper()
	var env map[string]map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("error body %q: %v", rec.Body.String(), err)
	}
	e, ok := env["error"]
	if !ok || len(env) != 1 {
		t.Fatalf("error body %q: want one key \"error\"", rec.Body.String())
	}
	for _, k := range []string{"message", "type", "param", "code"} {
		if _, ok := e[k]; !ok {
			t.Errorf("error body %q: key %q missing", rec.Body.String(), k)
		}
	}
	if len(e) != 4 {
		t.Errorf("error body %q: got %d keys, want 4", rec.Body.String(), len(e))
	}
	str := func(k string) string {
		var s *string
		if err := json.Unmarshal(e[k], &s); err != nil {
			t.Fatalf("error body %q: key %q: %v", rec.Body.String(), k, err)
		}
		if s == nil {
			return ""
		}
		return *s
	}
	return str("message"), str("type"), str("param"), str("code")
}

// wantError checks an error answer's status, code and param.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code, param string) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status: got %d, want %d (body %s)", rec.Code, status, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", got)
	}
	msg, _, gotParam, gotCode := errorBody(t, rec)
	if gotCode != code {
		t.Errorf("code: got %q, want %q (message %q)", gotCode, code, msg)
	}
	if gotParam != param {
		t.Errorf("param: got %q, want %q (message %q)", gotParam, param, msg)
	}
	if msg == "" {
		t.Errorf("message is empty")
	}
}

// decodeBody decodes a JSON answer into v, failing the test on a non-200.
func decodeBody(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200 (body %s)", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", got)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
}
