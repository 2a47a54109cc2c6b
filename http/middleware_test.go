package http

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/silo-dev/silo"
)

func TestHandler_EveryResponse(t *testing.T) {
	files := &fakeFiles{
		get: func(ctx context.Context, id string) (*silo.File, error) {
			panic("a bug in the service")
		},
		list: func(ctx context.Context, q silo.FileQuery) (*silo.FileList, error) {
			return &silo.FileList{}, nil
		},
	}
	h, logs := newTestHandler(t, nil, files)
	tests := []struct {
		name, method, path, key string
		status                  int
	}{
		{"ok", "GET", "/v1/files", testKey, 200},
		{"healthz", "GET", "/healthz", "", 200},
		{"unknown route", "GET", "/v1/nothing", testKey, 404},
		{"no version", "POST", "/files", testKey, 404},
		{"trailing slash", "GET", "/v1/files/", testKey, 404},
		{"dot segments", "GET", "/v1/files/../uploads", testKey, 404},
		{"double slash", "GET", "/v1//files", testKey, 404},
		{"wrong method", "PUT", "/v1/files", testKey, 405},
		{"wrong method on id", "POST", "/v1/files/file-x", testKey, 405},
		{"no key", "GET", "/v1/files", "", 401},
		{"no key unknown route", "GET", "/v1/nothing", "", 401},
		{"panic", "GET", "/v1/files/file-x", testKey, 500},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.key != "" {
				req.Header.Set("Authorization", "Bearer "+tt.key)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status: got %d, want %d (body %s)", rec.Code, tt.status, rec.Body)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type: got %q, want application/json", got)
			}
			id := rec.Header().Get("X-Request-Id")
			if len(id) < 20 || seen[id] {
				t.Errorf("x-request-id: got %q, want a new unguessable id", id)
			}
			seen[id] = true
			if tt.status >= 400 {
				errorBody(t, rec)
			}
			if tt.status == 405 && rec.Header().Get("Allow") == "" {
				t.Errorf("405 without Allow header")
			}
		})
	}
	if !strings.Contains(logs.String(), "a bug in the service") {
		t.Errorf("the panic was not logged:\n%s", logs)
	}
}

func TestHandler_Auth(t *testing.T) {
	var gotProject string
	files := &fakeFiles{list: func(ctx context.Context, q silo.FileQuery) (*silo.FileList, error) {
		gotProject = silo.ProjectFrom(ctx)
		return &silo.FileList{}, nil
	}}
	h, _ := newTestHandler(t, nil, files)
	tests := []struct {
		name   string
		header string
		status int
	}{
		{"no header", "", 401},
		{"empty bearer", "Bearer ", 401},
		{"basic", "Basic " + testKey, 401},
		{"wrong key", "Bearer sk-wrong", 401},
		{"key prefix", "Bearer " + testKey[:4], 401},
		{"right key", "Bearer " + testKey, 200},
		{"lower-case scheme", "bearer " + testKey, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotProject = ""
			req := httptest.NewRequest("GET", "/v1/files", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			req.Header.Set("OpenAI-Organization", "org-ignored")
			req.Header.Set("OpenAI-Project", "proj-ignored")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if tt.status == 401 {
				wantError(t, rec, 401, "invalid_api_key", "")
				if gotProject != "" {
					t.Errorf("service was called for a rejected request")
				}
				return
			}
			if rec.Code != tt.status {
				t.Fatalf("status: got %d, want %d (body %s)", rec.Code, tt.status, rec.Body)
			}
			if gotProject != testProject {
				t.Errorf("project in context: got %q, want %q", gotProject, testProject)
			}
		})
	}
}

func TestHandler_NilAuthRejectsAll(t *testing.T) {
	h := NewHandler(Config{Uploads: &fakeUploads{}, Files: &fakeFiles{}})
	req := httptest.NewRequest("GET", "/v1/files", nil)
	req.Header.Set("Authorization", "Bearer anything")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	wantError(t, rec, 401, "invalid_api_key", "")
}

func TestNewKeyring(t *testing.T) {
	auth := NewKeyring(map[string]string{"sk-a": "proj_a", "sk-bb": "proj_b", "": "proj_empty"})
	tests := []struct {
		token, project string
		ok             bool
	}{
		{"sk-a", "proj_a", true},
		{"sk-bb", "proj_b", true},
		{"sk-b", "", false},
		{"sk-bbb", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		project, ok := auth(tt.token)
		if project != tt.project || ok != tt.ok {
			t.Errorf("auth(%q): got %q, %v, want %q, %v", tt.token, project, ok, tt.project, tt.ok)
		}
	}
	if _, ok := NewKeyring(nil)("sk-a"); ok {
		t.Errorf("an empty keyring admitted a key")
	}
}

func TestTrackWriter_ForwardsReadFrom(t *testing.T) {
	rf := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	tw := track(rf)
	if track(tw) != tw {
		t.Errorf("track wrapped a trackWriter again")
	}
	n, err := tw.ReadFrom(strings.NewReader("hello"))
	if err != nil || n != 5 {
		t.Fatalf("ReadFrom: got %d, %v, want 5, nil", n, err)
	}
	if !rf.called {
		t.Errorf("ReadFrom did not reach the underlying writer's ReadFrom")
	}
	if got, want := tw.status(), http.StatusOK; got != want {
		t.Errorf("status: got %d, want %d", got, want)
	}
	if got := http.NewResponseController(tw); got == nil {
		t.Errorf("no ResponseController")
	}
}

// readFromRecorder is a ResponseRecorder that says when its ReadFrom is used.
type readFromRecorder struct {
	*httptest.ResponseRecorder
	called bool
}

func (r *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	r.called = true
	var n int64
	buf := make([]byte, 512)
	for {
		m, err := src.Read(buf)
		r.Write(buf[:m])
		n += int64(m)
		if err != nil {
			return n, nil
		}
	}
}
