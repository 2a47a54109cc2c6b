package http

import (
	"context"
	"encoding/json"
	"io"
	"reflect"
	"testing"

	"github.com/silo-dev/silo"
)

// fileRecorder is a CreateFile that reads Data to its end and then calls Rest,
// as the service does, and remembers the request it saw.
type fileRecorder struct {
	req    silo.FileCreate
	data   string
	called bool
}

func (f *fileRecorder) create(ctx context.Context, r *silo.FileCreate) (*silo.File, error) {
	f.called = true
	// As the service does: what came before the file is checked before it.
	if err := silo.CheckExpiresAfter(r.ExpiresAfter); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(r.Data)
	if err != nil {
		return nil, err
	}
	f.data = string(b)
	if r.Rest != nil {
		if err := r.Rest(r); err != nil {
			return nil, err
		}
	}
	if err := silo.CheckPurpose(r.Purpose); err != nil {
		return nil, err
	}
	f.req = *r
	f.req.Data, f.req.Rest = nil, nil
	return &silo.File{ID: "file-abc", Bytes: int64(len(b)), CreatedAt: testNow.Unix(),
		Filename: r.Filename, Purpose: r.Purpose, ExpiresAt: testNow.Unix() + 7200}, nil
}

func TestCreateFile_FieldsInAnyOrder(t *testing.T) {
	want := silo.FileCreate{Filename: "hello.txt", Purpose: "batch",
		ExpiresAfter: &silo.ExpiresAfter{Anchor: "created_at", Seconds: 7200}}
	orders := map[string][]string{
		"file first": {"@file", "hi", "purpose", "batch", "expires_after[anchor]", "created_at", "expires_after[seconds]", "7200"},
		"file last":  {"purpose", "batch", "expires_after[anchor]", "created_at", "expires_after[seconds]", "7200", "@file", "hi"},
		"file between": {"expires_after[seconds]", "7200", "@file", "hi", "purpose", "batch",
			"unknown", "ignored", "expires_after[anchor]", "created_at"},
	}
	for name, fields := range orders {
		t.Run(name, func(t *testing.T) {
			rec := &fileRecorder{}
			h, _ := newTestHandler(t, nil, &fakeFiles{create: rec.create})
			body, ct := form(t, fields...)
			res := serve(t, h, "POST", "/v1/files", body, "Content-Type", ct)
			var f map[string]json.RawMessage
			decodeBody(t, res, &f)
			if !reflect.DeepEqual(rec.req, want) {
				t.Errorf("request: got %+v (expires %+v), want %+v", rec.req, rec.req.ExpiresAfter, want)
			}
			if rec.data != "hi" {
				t.Errorf("data: got %q, want %q", rec.data, "hi")
			}
			wantJSON := map[string]string{"id": `"file-abc"`, "object": `"file"`, "bytes": "2",
				"filename": `"hello.txt"`, "purpose": `"batch"`, "status": `"processed"`,
				"status_details": "null", "expires_at": "1700007200", "created_at": "1700000000"}
			for k, v := range wantJSON {
				if got := string(f[k]); got != v {
					t.Errorf("%s: got %s, want %s", k, got, v)
				}
			}
			if len(f) != len(wantJSON) {
				t.Errorf("file: got %d keys, want %d: %s", len(f), len(wantJSON), res.Body)
			}
		})
	}
}

func TestCreateFile_BadForm(t *testing.T) {
	tests := []struct {
		name        string
		fields      []string
		code, param string
		called      bool
	}{
		{"no file", []string{"purpose", "batch"}, "missing_required_parameter", "file", false},
		{"bad purpose before file", []string{"purpose", "nope", "@file", "x"}, "invalid_value", "purpose", false},
		{"bad anchor before file", []string{"expires_after[anchor]", "now", "expires_after[seconds]", "3600", "@file", "x"}, "invalid_value", "expires_after.anchor", false},
		{"seconds not a number", []string{"expires_after[seconds]", "soon", "@file", "x"}, "invalid_value", "expires_after.seconds", false},
		{"no purpose", []string{"@file", "x"}, "missing_required_parameter", "purpose", true},
		{"bad purpose after file", []string{"@file", "x", "purpose", "nope"}, "invalid_value", "purpose", true},
		{"anchor without seconds", []string{"purpose", "batch", "@file", "x", "expires_after[anchor]", "created_at"}, "missing_required_parameter", "expires_after.seconds", true},
		{"seconds without anchor", []string{"purpose", "batch", "expires_after[seconds]", "3600", "@file", "x"}, "missing_required_parameter", "expires_after.anchor", true},
		{"two files", []string{"purpose", "batch", "@file", "x", "@file", "y"}, "invalid_value", "file", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &fileRecorder{}
			h, _ := newTestHandler(t, nil, &fakeFiles{create: rec.create})
			body, ct := form(t, tt.fields...)
			res := serve(t, h, "POST", "/v1/files", body, "Content-Type", ct)
			wantError(t, res, 400, tt.code, tt.param)
			if rec.called != tt.called {
				t.Errorf("service called: got %v, want %v", rec.called, tt.called)
			}
		})
	}
}

func TestCreateFile_NotMultipart(t *testing.T) {
	h, _ := newTestHandler(t, nil, nil)
	res := serve(t, h, "POST", "/v1/files", `{"purpose":"batch"}`, "Content-Type", "application/json")
	wantError(t, res, 400, "invalid_value", "")
}

func TestListFiles(t *testing.T) {
	var got silo.FileQuery
	page := &silo.FileList{HasMore: true}
	files := &fakeFiles{list: func(ctx context.Context, q silo.FileQuery) (*silo.FileList, error) {
		got = q
		return page, nil
	}}
	h, _ := newTestHandler(t, nil, files)

	res := serve(t, h, "GET", "/v1/files?purpose=batch&limit=2&order=asc&after=file-a", nil)
	var empty map[string]json.RawMessage
	decodeBody(t, res, &empty)
	if want := (silo.FileQuery{Purpose: "batch", Limit: 2, Order: "asc", After: "file-a"}); got != want {
		t.Errorf("query: got %+v, want %+v", got, want)
	}
	wantEmpty := map[string]string{"object": `"list"`, "data": "[]", "first_id": "null", "last_id": "null", "has_more": "true"}
	for k, v := range wantEmpty {
		if g := string(empty[k]); g != v {
			t.Errorf("empty page %s: got %s, want %s", k, g, v)
		}
	}

	page = &silo.FileList{Files: []*silo.File{{ID: "file-b"}, {ID: "file-c"}}}
	res = serve(t, h, "GET", "/v1/files", nil)
	var l FileListJSON
	decodeBody(t, res, &l)
	if got != (silo.FileQuery{}) {
		t.Errorf("query without parameters: got %+v, want zero (the service's defaults)", got)
	}
	if l.FirstID == nil || *l.FirstID != "file-b" || l.LastID == nil || *l.LastID != "file-c" || l.HasMore || len(l.Data) != 2 {
		t.Errorf("page: got %+v, want file-b..file-c, has_more false", l)
	}
}

func TestListFiles_BadLimit(t *testing.T) {
	for _, limit := range []string{"ten", "0", "1.5", "-"} {
		h, _ := newTestHandler(t, nil, nil)
		res := serve(t, h, "GET", "/v1/files?limit="+limit, nil)
		wantError(t, res, 400, "invalid_value", "limit")
	}
}

func TestGetAndDeleteFile(t *testing.T) {
	var deleted string
	files := &fakeFiles{
		get: func(ctx context.Context, id string) (*silo.File, error) {
			return &silo.File{ID: id, Filename: "a", Purpose: "user_data"}, nil
		},
		delete: func(ctx context.Context, id string) error {
			deleted = id
			return nil
		},
	}
	h, _ := newTestHandler(t, nil, files)
	var f map[string]json.RawMessage
	decodeBody(t, serve(t, h, "GET", "/v1/files/file-abc", nil), &f)
	if got := string(f["expires_at"]); got != "null" {
		t.Errorf("expires_at of a file that never expires: got %s, want null", got)
	}
	if got := string(f["id"]); got != `"file-abc"` {
		t.Errorf("id: got %s, want \"file-abc\"", got)
	}
	var d FileDeletedJSON
	decodeBody(t, serve(t, h, "DELETE", "/v1/files/file-abc", nil), &d)
	if want := (FileDeletedJSON{ID: "file-abc", Object: "file", Deleted: true}); d != want || deleted != "file-abc" {
		t.Errorf("delete: got %+v (service got %q), want %+v", d, deleted, want)
	}
}
