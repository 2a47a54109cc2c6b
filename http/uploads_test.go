package http

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/silo-dev/silo"
)

// testUpload is a pending Upload created at testNow.
func testUpload() *silo.Upload {
	return &silo.Upload{
		ID: "upload_abc", Project: testProject, Bytes: 10, Filename: "a.jsonl",
		Purpose: "batch", MimeType: "text/jsonl", CreatedAt: testNow.Unix(),
		ExpiresAt: testNow.Unix() + 3600, Status: silo.StatusPending,
	}
}

func TestCreateUpload(t *testing.T) {
	var got *silo.UploadCreate
	uploads := &fakeUploads{create: func(ctx context.Context, r *silo.UploadCreate) (*silo.Upload, error) {
		got = r
		return testUpload(), nil
	}}
	h, _ := newTestHandler(t, uploads, nil)
	rec := serve(t, h, "POST", "/v1/uploads",
		`{"filename":"a.jsonl","purpose":"batch","bytes":10,"mime_type":"text/jsonl",
		  "expires_after":{"anchor":"created_at","seconds":7200},"unknown":[1,2]}`,
		"Content-Type", "application/json")
	var body map[string]json.RawMessage
	decodeBody(t, rec, &body)
	want := &silo.UploadCreate{Filename: "a.jsonl", Purpose: "batch", Bytes: 10, MimeType: "text/jsonl",
		ExpiresAfter: &silo.ExpiresAfter{Anchor: "created_at", Seconds: 7200}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("request: got %+v, want %+v", got, want)
	}
	keys := []string{"id", "object", "bytes", "created_at", "expires_at", "filename", "purpose", "status", "file"}
	for _, k := range keys {
		if _, ok := body[k]; !ok {
			t.Errorf("upload lacks key %q: %s", k, rec.Body)
		}
	}
	if len(body) != len(keys) {
		t.Errorf("upload: got %d keys, want %d: %s", len(body), len(keys), rec.Body)
	}
	if got := string(body["file"]); got != "null" {
		t.Errorf("file: got %s, want null", got)
	}
	if got := string(body["object"]); got != `"upload"` {
		t.Errorf("object: got %s, want \"upload\"", got)
	}
	if got := string(body["status"]); got != `"pending"` {
		t.Errorf("status: got %s, want \"pending\"", got)
	}
}

func TestCreateUpload_StatusAtNow(t *testing.T) {
	uploads := &fakeUploads{create: func(ctx context.Context, r *silo.UploadCreate) (*silo.Upload, error) {
		u := testUpload()
		u.ExpiresAt = testNow.Unix() // its second has come
		return u, nil
	}}
	h, _ := newTestHandler(t, uploads, nil)
	rec := serve(t, h, "POST", "/v1/uploads", `{"filename":"a","purpose":"batch","bytes":1,"mime_type":"x"}`)
	var u UploadJSON
	decodeBody(t, rec, &u)
	if got, want := u.Status, "expired"; got != want {
		t.Errorf("status: got %q, want %q", got, want)
	}
}

func TestCreateUpload_BadBody(t *testing.T) {
	tests := []struct {
		name, body, code, param string
	}{
		{"empty", ``, "invalid_value", ""},
		{"not json", `filename=a`, "invalid_value", ""},
		{"truncated", `{"filename":"a"`, "invalid_value", ""},
		{"array", `[1]`, "invalid_value", ""},
		{"two objects", `{} {}`, "invalid_value", ""},
		{"bytes a string", `{"filename":"a","purpose":"batch","bytes":"10","mime_type":"x"}`, "invalid_value", "bytes"},
		{"bytes a fraction", `{"filename":"a","purpose":"batch","bytes":1.5,"mime_type":"x"}`, "invalid_value", "bytes"},
		{"seconds a string", `{"filename":"a","purpose":"batch","bytes":1,"mime_type":"x","expires_after":{"anchor":"created_at","seconds":"1"}}`, "invalid_value", "expires_after.seconds"},
		{"no filename", `{"purpose":"batch","bytes":1,"mime_type":"x"}`, "missing_required_parameter", "filename"},
		{"no purpose", `{"filename":"a","bytes":1,"mime_type":"x"}`, "missing_required_parameter", "purpose"},
		{"no bytes", `{"filename":"a","purpose":"batch","mime_type":"x"}`, "missing_required_parameter", "bytes"},
		{"null bytes", `{"filename":"a","purpose":"batch","bytes":null,"mime_type":"x"}`, "missing_required_parameter", "bytes"},
		{"no mime_type", `{"filename":"a","purpose":"batch","bytes":0}`, "missing_required_parameter", "mime_type"},
		{"no anchor", `{"filename":"a","purpose":"batch","bytes":0,"mime_type":"x","expires_after":{"seconds":3600}}`, "missing_required_parameter", "expires_after.anchor"},
		{"no seconds", `{"filename":"a","purpose":"batch","bytes":0,"mime_type":"x","expires_after":{"anchor":"created_at"}}`, "missing_required_parameter", "expires_after.seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			uploads := &fakeUploads{create: func(ctx context.Context, r *silo.UploadCreate) (*silo.Upload, error) {
				called = true
				return testUpload(), nil
			}}
			h, _ := newTestHandler(t, uploads, nil)
			rec := serve(t, h, "POST", "/v1/uploads", tt.body, "Content-Type", "application/json")
			wantError(t, rec, 400, tt.code, tt.param)
			if called {
				t.Errorf("the service was called with a bad body")
			}
		})
	}
}

func TestCreateUpload_ZeroBytesIsNotMissing(t *testing.T) {
	var got *silo.UploadCreate
	uploads := &fakeUploads{create: func(ctx context.Context, r *silo.UploadCreate) (*silo.Upload, error) {
		got = r
		return testUpload(), nil
	}}
	h, _ := newTestHandler(t, uploads, nil)
	rec := serve(t, h, "POST", "/v1/uploads", `{"filename":"a","purpose":"batch","bytes":0,"mime_type":"x"}`)
	if rec.Code != 200 || got == nil || got.Bytes != 0 {
		t.Errorf("got status %d, request %+v; want 200 with bytes 0", rec.Code, got)
	}
}

func TestCreateUpload_BodyTooLarge(t *testing.T) {
	h, _ := newTestHandler(t, nil, nil)
	big := `{"filename":"` + string(make([]byte, maxJSONBytes)) + `"}`
	rec := serve(t, h, "POST", "/v1/uploads", big)
	wantError(t, rec, 400, "invalid_value", "")
}

func TestCompleteUpload(t *testing.T) {
	var gotID, gotMD5 string
	var gotParts []string
	uploads := &fakeUploads{complete: func(ctx context.Context, id string, partIDs []string, md5 string) (*silo.Upload, error) {
		gotID, gotParts, gotMD5 = id, partIDs, md5
		u := testUpload()
		u.Status = silo.StatusCompleted
		u.File = &silo.File{ID: "file-abc", Bytes: 10, CreatedAt: u.CreatedAt, Filename: u.Filename, Purpose: u.Purpose}
		return u, nil
	}}
	h, _ := newTestHandler(t, uploads, nil)
	rec := serve(t, h, "POST", "/v1/uploads/upload_abc/complete",
		`{"part_ids":["part_b","part_a"],"md5":"0123456789abcdef0123456789abcdef"}`)
	var u UploadJSON
	decodeBody(t, rec, &u)
	if gotID != "upload_abc" || !reflect.DeepEqual(gotParts, []string{"part_b", "part_a"}) || gotMD5 != "0123456789abcdef0123456789abcdef" {
		t.Errorf("service got %q %q %q", gotID, gotParts, gotMD5)
	}
	if u.Status != "completed" || u.File == nil || u.File.ID != "file-abc" || u.File.Status != "processed" {
		t.Errorf("answer: got %+v (file %+v), want completed with file-abc", u, u.File)
	}
}

func TestCompleteUpload_BadBody(t *testing.T) {
	tests := []struct {
		name, body, code, param string
	}{
		{"no part_ids", `{"md5":"x"}`, "missing_required_parameter", "part_ids"},
		{"null part_ids", `{"part_ids":null}`, "missing_required_parameter", "part_ids"},
		{"part_ids a string", `{"part_ids":"part_a"}`, "invalid_value", "part_ids"},
		{"part id a number", `{"part_ids":[1]}`, "invalid_value", "part_ids"},
		{"md5 a number", `{"part_ids":[],"md5":5}`, "invalid_value", "md5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, nil, nil)
			rec := serve(t, h, "POST", "/v1/uploads/upload_abc/complete", tt.body)
			wantError(t, rec, 400, tt.code, tt.param)
		})
	}
}

func TestCancelUpload(t *testing.T) {
	var gotID string
	uploads := &fakeUploads{cancel: func(ctx context.Context, id string) (*silo.Upload, error) {
		gotID = id
		u := testUpload()
		u.Status = silo.StatusCancelled
		return u, nil
	}}
	h, _ := newTestHandler(t, uploads, nil)
	for _, header := range [][]string{nil, {"Content-Type", "application/json"}} {
		rec := serve(t, h, "POST", "/v1/uploads/upload_abc/cancel", nil, header...)
		var u UploadJSON
		decodeBody(t, rec, &u)
		if u.Status != "cancelled" || gotID != "upload_abc" {
			t.Errorf("header %q: got status %q for %q, want cancelled for upload_abc", header, u.Status, gotID)
		}
	}
}
