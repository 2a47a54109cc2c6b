package http

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/silo-dev/silo"
)

// FuzzCreateUpload sends a body to POST /v1/uploads. A 200 records exactly one
// pending Upload with the body's fields; a refusal records none and names a
// field of the body; a plain valid body is never refused, and anything but
// one JSON object always is.
func FuzzCreateUpload(f *testing.F) {
	createCodes := []string{"invalid_value", "missing_required_parameter", "upload_too_large", "invalid_file_format"}
	createParams := []string{"filename", "purpose", "bytes", "mime_type", "expires_after"}
	f.Fuzz(func(t *testing.T, body []byte) {
		fs := newFuzzServer(t)
		rec := serve(t, fs.h, "POST", "/v1/uploads", body, "Content-Type", "application/json")
		code, param := checkAnswer(t, rec, 200, 400)
		fields, isObject := jsonObject(body)
		want, valid := validCreate(fields)
		if rec.Code != 200 {
			if n := fs.pendingUploads(t); n != 0 {
				t.Errorf("refused create (%s, param %q) recorded %d uploads", code, param, n)
			}
			if !slices.Contains(createCodes, code) {
				t.Errorf("refused create: code %q, want one of %v", code, createCodes)
			}
			if param != "" && !slices.ContainsFunc(createParams, func(p string) bool { return strings.HasPrefix(param, p) }) {
				t.Errorf("refused create: param %q is no field of the body", param)
			}
			if valid {
				t.Errorf("a valid create was refused: %s", rec.Body)
			}
			return
		}
		if !isObject {
			t.Errorf("200 for a body that is not one JSON object")
		}
		object(t, rec.Body.Bytes(), uploadKeys...)
		var got UploadJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Object != "upload" || got.Status != "pending" || got.File != nil || !strings.HasPrefix(got.ID, silo.UploadIDPrefix) ||
			got.CreatedAt != testNow.Unix() || got.ExpiresAt != got.CreatedAt+int64(silo.DefaultUploadTTL.Seconds()) {
			t.Errorf("upload %s: want object upload, pending, file null, expiring in an hour", rec.Body)
		}
		if got.Filename == "" || !silo.ValidPurpose(got.Purpose) || got.Bytes < 0 || got.Bytes > silo.MaxUploadBytes {
			t.Errorf("upload %s: accepted an empty filename, a bad purpose or a size out of range", rec.Body)
		}
		u, err := fs.meta.GetUpload(fs.ctx, testProject, got.ID)
		if err != nil {
			t.Fatalf("the upload the 200 named: %v", err)
		}
		if valid {
			if got.Filename != want.Filename || got.Purpose != want.Purpose || got.Bytes != want.Bytes || u.MimeType != want.MimeType {
				t.Errorf("upload %s (mime_type %q): want %+v", rec.Body, u.MimeType, want)
			}
		}
		if n := fs.pendingUploads(t); n != 1 {
			t.Errorf("one create recorded %d pending uploads", n)
		}
	})
}

// pendingUploads returns how many pending Uploads the store holds, by
// expiring them all: only for the end of a test.
func (fs *fuzzServer) pendingUploads(t *testing.T) int {
	t.Helper()
	n, err := fs.meta.ExpireUploads(fs.ctx, testNow.Add(silo.DefaultUploadTTL+time.Second), 100)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// jsonObject decodes body as exactly one JSON object, numbers kept as
// json.Number; ok is false for anything else.
func jsonObject(body []byte) (m map[string]any, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return m, true
}

// onlyKeys reports whether every key of m is one of keys, spelled exactly.
// encoding/json matches keys without regard to case; a body whose keys are
// all exact means the same to every reader.
func onlyKeys(m map[string]any, keys ...string) bool {
	for k := range m {
		if !slices.Contains(keys, k) {
			return false
		}
	}
	return true
}

// validCreate returns the create that m asks for and whether every version of
// Silo takes it: the four required fields with valid values, nothing else.
func validCreate(m map[string]any) (silo.UploadCreate, bool) {
	var c silo.UploadCreate
	if m == nil || !onlyKeys(m, "filename", "purpose", "bytes", "mime_type") {
		return c, false
	}
	var ok1, ok2, ok3 bool
	c.Filename, ok1 = m["filename"].(string)
	c.Purpose, ok2 = m["purpose"].(string)
	c.MimeType, ok3 = m["mime_type"].(string)
	n, ok4 := m["bytes"].(json.Number)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return c, false
	}
	var err error
	if c.Bytes, err = n.Int64(); err != nil || c.Bytes < 0 || c.Bytes > silo.MaxUploadBytes {
		return c, false
	}
	if c.Filename == "" || len(c.Filename) > 1024 || !utf8.ValidString(c.Filename) || c.MimeType == "" || !silo.ValidPurpose(c.Purpose) {
		return c, false
	}
	if (c.Purpose == "batch" || c.Purpose == "fine-tune") && !strings.HasSuffix(c.Filename, ".jsonl") {
		return c, false
	}
	return c, true
}

// The parts FuzzCompleteUpload's Upload of 10 bytes has before the input: it
// completes with part_1 and either of the others, in any order.
var completeParts = []struct{ id, data string }{
	{"part_1", "abc"},
	{"part_2", "defghij"},
	{"part_3", "klmnopq"},
}

// FuzzCompleteUpload sends a body to POST /v1/uploads/upload_1/complete. A
// 200 completes the Upload into a File of the listed parts in the listed
// order (whose md5 is the one sent, if any), and again for the same body; a
// refusal leaves the Upload pending, so that a right complete then succeeds;
// a plain valid body is never refused.
func FuzzCompleteUpload(f *testing.F) {
	completeCodes := []string{"invalid_value", "missing_required_parameter", "part_not_found", "duplicate_part", "bytes_mismatch", "md5_mismatch"}
	f.Fuzz(func(t *testing.T, body []byte) {
		fs := newFuzzServer(t)
		u, err := fs.svc.CreateUpload(fs.ctx, &silo.UploadCreate{
			Filename: "c.txt", Purpose: "user_data", Bytes: 10, MimeType: "text/plain"})
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]string{}
		for _, p := range completeParts {
			part, err := fs.svc.AddPart(fs.ctx, u.ID, strings.NewReader(p.data))
			if err != nil || part.ID != p.id {
				t.Fatalf("part %s: got %v, %v", p.id, part, err)
			}
			byID[p.id] = p.data
		}
		path := "/v1/uploads/" + u.ID + "/complete"
		rec := serve(t, fs.h, "POST", path, body, "Content-Type", "application/json")
		code, param := checkAnswer(t, rec, 200, 400)
		m, isObject := jsonObject(body)
		valid := validComplete(m, byID)
		if rec.Code != 200 {
			if !slices.Contains(completeCodes, code) {
				t.Errorf("refused complete: code %q, want one of %v", code, completeCodes)
			}
			if param != "" && !strings.HasPrefix(param, "part_ids") && param != "md5" {
				t.Errorf("refused complete: param %q is no field of the body", param)
			}
			if valid {
				t.Errorf("a valid complete was refused: %s", rec.Body)
			}
			again := serve(t, fs.h, "POST", path, `{"part_ids":["part_1","part_2"]}`)
			if again.Code != 200 {
				t.Errorf("after a refused complete (%s), a right one got %d %s", code, again.Code, again.Body)
			}
			return
		}
		if !isObject {
			t.Errorf("200 for a body that is not one JSON object")
		}
		object(t, rec.Body.Bytes(), uploadKeys...)
		var got UploadJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || got.Status != "completed" || got.File == nil {
			t.Fatalf("upload %s: want %s completed with its file", rec.Body, u.ID)
		}
		fileJSON, _ := json.Marshal(got.File)
		checkFile(t, fileJSON)
		// What the server decoded, read the same way: encoding/json's
		// rules for keys decide which part_ids a body with several means.
		var sent struct {
			PartIDs []string `json:"part_ids"`
			MD5     string   `json:"md5"`
		}
		if err := json.Unmarshal(body, &sent); err != nil {
			t.Fatalf("200 for a body encoding/json refuses: %v", err)
		}
		var want strings.Builder
		for _, id := range sent.PartIDs {
			want.WriteString(byID[id])
		}
		content := fs.content(t, got.File.ID)
		if string(content) != want.String() || got.File.Bytes != 10 {
			t.Errorf("file of %v: got %q (bytes %d), want %q", sent.PartIDs, content, got.File.Bytes, want.String())
		}
		if sum := md5.Sum(content); sent.MD5 != "" && !strings.EqualFold(sent.MD5, hex.EncodeToString(sum[:])) {
			t.Errorf("200 with md5 %q for bytes whose md5 is %x", sent.MD5, sum)
		}
		again := serve(t, fs.h, "POST", path, body, "Content-Type", "application/json")
		var retried UploadJSON
		if err := json.Unmarshal(again.Body.Bytes(), &retried); again.Code != 200 || err != nil || retried.File == nil || retried.File.ID != got.File.ID {
			t.Errorf("the same complete again: %d %s, want 200 with file %s", again.Code, again.Body, got.File.ID)
		}
	})
}

// validComplete reports whether m is a complete of the Upload of parts that
// every version of Silo takes: part_ids lists distinct parts that make up its
// 10 bytes, and md5, if sent, is theirs.
func validComplete(m map[string]any, parts map[string]string) bool {
	if m == nil || !onlyKeys(m, "part_ids", "md5") {
		return false
	}
	list, ok := m["part_ids"].([]any)
	if !ok {
		return false
	}
	var data strings.Builder
	seen := map[string]bool{}
	for _, v := range list {
		id, ok := v.(string)
		if !ok || seen[id] {
			return false
		}
		seen[id] = true
		p, ok := parts[id]
		if !ok {
			return false
		}
		data.WriteString(p)
	}
	if data.Len() != 10 {
		return false
	}
	switch sum := md5.Sum([]byte(data.String())); v := m["md5"].(type) {
	case nil:
		return true
	case string:
		return v == "" || strings.EqualFold(v, hex.EncodeToString(sum[:]))
	default:
		return false
	}
}
