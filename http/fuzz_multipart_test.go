package http

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/silo-dev/silo"
)

// FuzzAddPart sends a Content-Type and a body as a part of a pending Upload.
// A 200 stores exactly one part whose bytes are those of the body's data
// field; any refusal stores nothing; a well-formed body with one data field
// is never refused.
func FuzzAddPart(f *testing.F) {
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		fs := newFuzzServer(t)
		u, err := fs.svc.CreateUpload(fs.ctx, &silo.UploadCreate{
			Filename: "parts.bin", Purpose: "user_data", Bytes: 1 << 20, MimeType: "application/octet-stream"})
		if err != nil {
			t.Fatal(err)
		}
		rec := serve(t, fs.h, "POST", "/v1/uploads/"+u.ID+"/parts", body, "Content-Type", contentType)
		// 413 for a part over 64 MiB; a second data field, or a part header
		// block over the limit, is a 400.
		code, param := checkAnswer(t, rec, 200, 400, 413)
		fields, formErr := readForm(contentType, body)
		data := named(fields, "data")
		parts, err := fs.meta.ListParts(fs.ctx, testProject, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Code != 200 {
			if len(parts) != 0 || fs.blobCount(t) != 0 {
				t.Errorf("refused part (%d %s, param %q) left %d parts and %d blobs", rec.Code, code, param, len(parts), fs.blobCount(t))
			}
			if formErr == nil && len(data) == 1 && plain(fields, "data") {
				t.Errorf("a well-formed part with one data field of %d bytes was refused: %d %s", len(data[0].data), rec.Code, rec.Body)
			}
			return
		}
		object(t, rec.Body.Bytes(), partKeys...)
		var p PartJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if p.Object != "upload.part" || p.UploadID != u.ID || p.CreatedAt != testNow.Unix() || !strings.HasPrefix(p.ID, silo.PartIDPrefix) {
			t.Errorf("part %s: want object upload.part of %s, created now", rec.Body, u.ID)
		}
		if len(data) == 0 {
			t.Fatalf("200 for a body without a whole data field (reading stopped at: %v)", formErr)
		}
		if len(parts) != 1 || parts[0].ID != p.ID {
			t.Fatalf("after a 200 for %s the upload records %d parts", p.ID, len(parts))
		}
		if n := fs.blobCount(t); n != 1 {
			t.Errorf("one part stored %d blobs", n)
		}
		got := fs.blob(t, parts[0].BlobKey)
		if !bytes.Equal(got, data[0].data) || parts[0].Size != int64(len(got)) {
			t.Errorf("stored part: %d bytes %.64q (size %d), want the data field's %d bytes %.64q",
				len(got), got, parts[0].Size, len(data[0].data), data[0].data)
		}
	})
}

// FuzzCreateFile sends a Content-Type and a body to POST /v1/files. A 200
// stores exactly one File whose bytes, filename, purpose and expiry are those
// of the body's fields; any refusal stores nothing; a well-formed body with
// one file and a valid purpose is never refused.
func FuzzCreateFile(f *testing.F) {
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		fs := newFuzzServer(t)
		rec := serve(t, fs.h, "POST", "/v1/files", body, "Content-Type", contentType)
		code, param := checkAnswer(t, rec, 200, 400, 413)
		fields, formErr := readForm(contentType, body)
		files := named(fields, "file")
		list, err := fs.svc.ListFiles(fs.ctx, silo.FileQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Code != 200 {
			if len(list.Files) != 0 || fs.blobCount(t) != 0 {
				t.Errorf("refused file (%d %s, param %q) left %d files and %d blobs", rec.Code, code, param, len(list.Files), fs.blobCount(t))
			}
			if formErr == nil && wellFormedFileForm(fields) {
				t.Errorf("a well-formed POST /files was refused: %d %s", rec.Code, rec.Body)
			}
			return
		}
		got := checkFile(t, rec.Body.Bytes())
		if formErr != nil {
			t.Errorf("200 for a body that is not well-formed: %v", formErr)
		}
		if len(files) != 1 {
			t.Fatalf("200 for a body with %d file fields", len(files))
		}
		if len(list.Files) != 1 || list.Files[0].ID != got.ID {
			t.Errorf("after a 200 for %s the project lists %d files", got.ID, len(list.Files))
		}
		if n := fs.blobCount(t); n != 1 {
			t.Errorf("one file stored %d blobs", n)
		}
		want := files[0]
		if content := fs.content(t, got.ID); !bytes.Equal(content, want.data) || got.Bytes != int64(len(want.data)) {
			t.Errorf("stored file: %d bytes %.64q (bytes %d), want the file field's %d bytes %.64q",
				len(content), content, got.Bytes, len(want.data), want.data)
		}
		if got.Filename != jsonString(want.filename) {
			t.Errorf("filename: got %.100q, want %.100q", got.Filename, want.filename)
		}
		purpose, anchor, seconds := lastValue(fields, "purpose"), lastValue(fields, "expires_after[anchor]", "expires_after.anchor"),
			lastValue(fields, "expires_after[seconds]", "expires_after.seconds")
		if got.Purpose != purpose {
			t.Errorf("purpose: got %q, want the last purpose field's %q", got.Purpose, purpose)
		}
		if got.CreatedAt != testNow.Unix() {
			t.Errorf("created_at: got %d, want %d", got.CreatedAt, testNow.Unix())
		}
		var wantExpiry *int64
		switch n, err := strconv.ParseInt(seconds, 10, 64); {
		case anchor != "" && err == nil:
			if anchor != "created_at" {
				t.Errorf("200 with expires_after anchor %q", anchor)
			}
			at := got.CreatedAt + n
			wantExpiry = &at
		case anchor != "" || seconds != "":
			t.Errorf("200 with expires_after anchor %q, seconds %q", anchor, seconds)
		case purpose == "batch":
			at := got.CreatedAt + int64(silo.BatchFileTTL.Seconds())
			wantExpiry = &at
		}
		if (got.ExpiresAt == nil) != (wantExpiry == nil) || got.ExpiresAt != nil && *got.ExpiresAt != *wantExpiry {
			t.Errorf("expires_at: got %s", rec.Body)
		}
	})
}

// lastValue returns the value of the last field with one of the names, which
// is the one POST /files keeps, or "".
func lastValue(fields []formField, names ...string) string {
	v := ""
	for _, f := range fields {
		for _, n := range names {
			if f.name == n {
				v = string(f.data)
			}
		}
	}
	return v
}

// wellFormedFileForm reports whether fields are what a client library sends
// for a File every version of Silo takes: one file field with a short UTF-8
// name (.jsonl for the purposes that require it), one valid purpose, no
// expires_after, and no oversized field or header.
func wellFormedFileForm(fields []formField) bool {
	files, purposes := named(fields, "file"), named(fields, "purpose")
	if len(files) != 1 || len(purposes) != 1 || !plain(fields, "file") {
		return false
	}
	name, purpose := files[0].filename, string(purposes[0].data)
	if name == "" || len(name) > 1024 || !utf8.ValidString(name) || !silo.ValidPurpose(purpose) {
		return false
	}
	if (purpose == "batch" || purpose == "fine-tune") && !strings.HasSuffix(name, ".jsonl") {
		return false
	}
	for _, f := range fields {
		if strings.HasPrefix(f.name, "expires_after") {
			return false
		}
	}
	return true
}
