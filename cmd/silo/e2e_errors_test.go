package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
)

// TestE2E_Errors checks every error of the spec's table that a client can
// provoke, with its status, type, code and param, through the official SDK
// where it can send the request and raw HTTP where it cannot.
func TestE2E_Errors(t *testing.T) {
	s := startSilo(t, "", map[string]string{"SILO_API_KEYS": "sk-a"})
	c := s.client("sk-a")
	ctx := context.Background()
	newUpload := func(n int64) *openai.Upload {
		t.Helper()
		u, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: n, Filename: "f.txt", MimeType: "text/plain", Purpose: openai.FilePurposeUserData})
		fatalIf(t, err)
		return u
	}
	addPart := func(id, data string) (*openai.UploadPart, error) {
		return c.Uploads.Parts.New(ctx, id, openai.UploadPartNewParams{Data: strings.NewReader(data)})
	}

	t.Run("auth", func(t *testing.T) {
		_, err := s.client("sk-nope").Uploads.New(ctx, openai.UploadNewParams{Bytes: 1, Filename: "f", MimeType: "a/b", Purpose: "user_data"})
		wantAPIError(t, err, 401, "invalid_request_error", "invalid_api_key", "")
		resp := raw(t, s, "GET", "/files", "", "", nil)
		wantRawError(t, resp, 401, "invalid_api_key", "")
	})
	t.Run("create", func(t *testing.T) {
		for _, tc := range []struct {
			params      openai.UploadNewParams
			code, param string
		}{
			{openai.UploadNewParams{Bytes: 1, Filename: "f", MimeType: "a/b", Purpose: "nope"}, "invalid_value", "purpose"},
			{openai.UploadNewParams{Bytes: -1, Filename: "f", MimeType: "a/b", Purpose: "user_data"}, "invalid_value", "bytes"},
			{openai.UploadNewParams{Bytes: 8<<30 + 1, Filename: "f", MimeType: "a/b", Purpose: "user_data"}, "upload_too_large", "bytes"},
			{openai.UploadNewParams{Bytes: 1, Filename: "f", MimeType: "a/b", Purpose: "user_data",
				ExpiresAfter: openai.UploadNewParamsExpiresAfter{Seconds: 10}}, "invalid_value", "expires_after.seconds"},
		} {
			_, err := c.Uploads.New(ctx, tc.params)
			wantAPIError(t, err, 400, "invalid_request_error", tc.code, tc.param)
		}
		for _, tc := range []struct{ body, code, param string }{
			{`{"bytes":1,"filename":"f","purpose":"user_data"}`, "missing_required_parameter", "mime_type"},
			{`{"filename":"f","purpose":"user_data","mime_type":"a/b"}`, "missing_required_parameter", "bytes"},
			{`{"bytes":"1","filename":"f","purpose":"user_data","mime_type":"a/b"}`, "invalid_value", "bytes"},
			{`{"bytes":1,`, "invalid_value", ""},
		} {
			resp := raw(t, s, "POST", "/uploads", "sk-a", "application/json", strings.NewReader(tc.body))
			wantRawError(t, resp, 400, tc.code, tc.param)
		}
	})
	t.Run("parts", func(t *testing.T) {
		_, err := addPart("upload_nope", "x")
		wantAPIError(t, err, 404, "invalid_request_error", "", "upload_id")
		u := newUpload(1)
		_, err = c.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: io.LimitReader(zeroReader{}, 64<<20+1)})
		wantAPIError(t, err, 413, "invalid_request_error", "part_too_large", "data")
		_, err = addPart(u.ID, strings.Repeat("x", 10))
		fatalIf(t, err)
		_, err = c.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: io.LimitReader(zeroReader{}, 64<<20)})
		wantAPIError(t, err, 400, "invalid_request_error", "upload_too_large", "data")
		resp := raw(t, s, "POST", "/uploads/"+u.ID+"/parts", "sk-a", "application/json", strings.NewReader("{}"))
		wantRawError(t, resp, 400, "invalid_value", "")
	})
	t.Run("complete", func(t *testing.T) {
		u, other := newUpload(3), newUpload(1)
		p1, err := addPart(u.ID, "ab")
		fatalIf(t, err)
		p2, err := addPart(u.ID, "c")
		fatalIf(t, err)
		po, err := addPart(other.ID, "z")
		fatalIf(t, err)
		for _, tc := range []struct {
			ids         []string
			md5         string
			code, param string
		}{
			{[]string{p1.ID, p1.ID}, "", "duplicate_part", "part_ids"},
			{[]string{p1.ID, "part_nope"}, "", "part_not_found", "part_ids"},
			{[]string{p1.ID, po.ID}, "", "part_not_found", "part_ids"},
			{[]string{p1.ID}, "", "bytes_mismatch", "part_ids"},
			{[]string{p1.ID, p2.ID}, "123", "invalid_value", "md5"},
			{[]string{p2.ID, p1.ID}, "900150983cd24fb0d6963f7d28e17f72", "md5_mismatch", "md5"},
		} {
			params := openai.UploadCompleteParams{PartIDs: tc.ids}
			if tc.md5 != "" {
				params.Md5 = openai.String(tc.md5)
			}
			_, err := c.Uploads.Complete(ctx, u.ID, params)
			wantAPIError(t, err, 400, "invalid_request_error", tc.code, tc.param)
		}
		resp := raw(t, s, "POST", "/uploads/"+u.ID+"/complete", "sk-a", "application/json", strings.NewReader(`{}`))
		wantRawError(t, resp, 400, "missing_required_parameter", "part_ids")
		// Still pending after all that: the right list completes it.
		done, err := c.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: []string{p1.ID, p2.ID}, Md5: openai.String("900150983cd24fb0d6963f7d28e17f72")})
		fatalIf(t, err)
		_, err = c.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: []string{p2.ID, p1.ID}})
		wantAPIError(t, err, 400, "invalid_request_error", "upload_completed", "")
		_, err = addPart(u.ID, "x")
		wantAPIError(t, err, 400, "invalid_request_error", "upload_completed", "")
		_, err = c.Uploads.Cancel(ctx, u.ID)
		wantAPIError(t, err, 400, "invalid_request_error", "upload_completed", "")
		if done.File.ID == "" {
			t.Fatal("no file")
		}
	})
	t.Run("cancel", func(t *testing.T) {
		u := newUpload(1)
		p, err := addPart(u.ID, "x")
		fatalIf(t, err)
		// Python sends an empty body with Content-Type: application/json.
		resp := raw(t, s, "POST", "/uploads/"+u.ID+"/cancel", "sk-a", "application/json", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("cancel with an empty JSON body: %d %s", resp.StatusCode, resp.body)
		}
		again, err := c.Uploads.Cancel(ctx, u.ID)
		fatalIf(t, err)
		if again.Status != "cancelled" {
			t.Fatalf("cancel again: status %q", again.Status)
		}
		_, err = addPart(u.ID, "x")
		wantAPIError(t, err, 400, "invalid_request_error", "upload_cancelled", "")
		_, err = c.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: []string{p.ID}})
		wantAPIError(t, err, 400, "invalid_request_error", "upload_cancelled", "")
		_, err = c.Uploads.Cancel(ctx, "upload_nope")
		wantAPIError(t, err, 404, "invalid_request_error", "", "upload_id")
	})
	t.Run("files", func(t *testing.T) {
		_, err := c.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader("x"), "x.txt", "text/plain"), Purpose: "nope"})
		wantAPIError(t, err, 400, "invalid_request_error", "invalid_value", "purpose")
		_, err = c.Files.List(ctx, openai.FileListParams{Limit: openai.Int(10001)})
		wantAPIError(t, err, 400, "invalid_request_error", "invalid_value", "limit")
		_, err = c.Files.List(ctx, openai.FileListParams{Order: "sideways"})
		wantAPIError(t, err, 400, "invalid_request_error", "invalid_value", "order")
		_, err = c.Files.Delete(ctx, "file-nope")
		wantAPIError(t, err, 404, "invalid_request_error", "", "file_id")
		resp := raw(t, s, "GET", "/files/file-nope/content", "sk-a", "", nil)
		wantRawError(t, resp, 404, "", "file_id")
	})
	// As on OpenAI: purposes batch and fine-tune take only .jsonl files,
	// checked before any byte of the file is stored.
	t.Run("file format", func(t *testing.T) {
		_, err := c.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader("{}"), "requests.csv", "text/csv"), Purpose: openai.FilePurposeBatch})
		wantAPIError(t, err, 400, "invalid_request_error", "invalid_file_format", "file")
		var e *openai.Error
		if errors.As(err, &e) && (!strings.Contains(e.Message, "'batch'") || !strings.Contains(e.Message, ".jsonl")) {
			t.Errorf("message %q names neither the purpose nor .jsonl", e.Message)
		}
		_, err = c.Uploads.New(ctx, openai.UploadNewParams{Bytes: 1, Filename: "train.txt", MimeType: "text/plain", Purpose: openai.FilePurposeFineTune})
		wantAPIError(t, err, 400, "invalid_request_error", "invalid_file_format", "filename")
		// The purpose may come after the file in the form: the file is refused
		// all the same, and nothing is kept.
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "late.txt")
		fw.Write([]byte("{}\n"))
		mw.WriteField("purpose", "batch")
		mw.Close()
		resp := raw(t, s, "POST", "/files", "sk-a", mw.FormDataContentType(), &body)
		wantRawError(t, resp, 400, "invalid_file_format", "file")
		ok, err := c.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader("{}\n"), "requests.JSONL", "application/jsonl"), Purpose: openai.FilePurposeBatch})
		fatalIf(t, err)
		list, err := c.Files.List(ctx, openai.FileListParams{Purpose: openai.String("batch")})
		fatalIf(t, err)
		if len(list.Data) != 1 || list.Data[0].ID != ok.ID {
			t.Errorf("batch files: got %d, want only %s", len(list.Data), ok.ID)
		}
	})
	// Any purpose filters a list, as on OpenAI: one that no File has (such
	// as OpenAI's own batch_output) gives an empty page, not an error.
	t.Run("list any purpose", func(t *testing.T) {
		for _, p := range []string{"batch_output", "fine-tune-results", "assistants_output", "no-such-purpose"} {
			page, err := c.Files.List(ctx, openai.FileListParams{Purpose: openai.String(p)})
			fatalIf(t, err)
			if len(page.Data) != 0 || page.HasMore {
				t.Errorf("purpose %s: got %d files, has_more %v; want an empty page", p, len(page.Data), page.HasMore)
			}
		}
	})
}

// TestE2E_Races races completes and cancels on one upload through the SDK:
// exactly one outcome, never two files.
func TestE2E_Races(t *testing.T) {
	s := startSilo(t, "", nil)
	c := s.client("k")
	ctx := context.Background()
	for round := range 10 {
		u, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: 2, Filename: "f", MimeType: "a/b", Purpose: "evals"})
		fatalIf(t, err)
		var ids []string
		for _, d := range []string{"a", "b"} {
			p, err := c.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: strings.NewReader(d)})
			fatalIf(t, err)
			ids = append(ids, p.ID)
		}
		var mu sync.Mutex
		files, cancels, late := map[string]bool{}, 0, 0
		var wg sync.WaitGroup
		for i := range 9 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch i % 3 {
				case 0:
					if d, err := c.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: ids}); err == nil {
						mu.Lock()
						files[d.File.ID] = true
						mu.Unlock()
					}
				case 1:
					if _, err := c.Uploads.Cancel(ctx, u.ID); err == nil {
						mu.Lock()
						cancels++
						mu.Unlock()
					}
				default:
					if _, err := c.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: strings.NewReader("c")}); err == nil {
						mu.Lock()
						late++
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		if len(files) > 1 || (len(files) == 1) == (cancels > 0) {
			t.Fatalf("round %d: %d files and %d successful cancels, want one outcome", round, len(files), cancels)
		}
	}
}

// TestE2E_Expiry runs the server with a one-second TTL: the upload reads
// expired from its expires_at second, and the reaper removes its parts.
func TestE2E_Expiry(t *testing.T) {
	s := startSilo(t, "", nil, "--upload-ttl", "1s", "--reap-interval", "100ms", "--garbage-grace", "0s")
	c := s.client("k")
	ctx := context.Background()
	u, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: 2, Filename: "f", MimeType: "a/b", Purpose: "vision"})
	fatalIf(t, err)
	if u.ExpiresAt != u.CreatedAt+1 {
		t.Fatalf("expires_at %d, want created_at+1 = %d", u.ExpiresAt, u.CreatedAt+1)
	}
	_, err = c.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: strings.NewReader("a")})
	fatalIf(t, err)
	time.Sleep(time.Until(time.Unix(u.ExpiresAt, 0)))
	_, err = c.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: strings.NewReader("b")})
	wantAPIError(t, err, 400, "invalid_request_error", "upload_expired", "")
	_, err = c.Uploads.Cancel(ctx, u.ID)
	wantAPIError(t, err, 400, "invalid_request_error", "upload_expired", "")
	for i := 0; countBlobs(t, s.Data) > 0; i++ {
		if i == 100 {
			t.Fatalf("the expired upload's part is still stored after 10 s of reaping")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rawResponse is a response read whole.
type rawResponse struct {
	*http.Response
	body []byte
}

// raw sends a request the SDK cannot send (malformed or partial bodies).
func raw(t *testing.T, s *siloServer, method, path, key, contentType string, body io.Reader) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, s.BaseURL+path, body)
	fatalIf(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	fatalIf(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	fatalIf(t, err)
	return rawResponse{resp, b}
}

// wantRawError checks a raw response's status and error envelope ("" for null).
func wantRawError(t *testing.T, r rawResponse, status int, code, param string) {
	t.Helper()
	if r.StatusCode != status || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("x-request-id") == "" {
		t.Fatalf("got %d %q request-id %q, want %d application/json with an x-request-id: %s",
			r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("x-request-id"), status, r.body)
	}
	var env struct {
		Error map[string]*string `json:"error"`
	}
	if err := json.NewDecoder(bytes.NewReader(r.body)).Decode(&env); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	for _, k := range []string{"message", "type", "param", "code"} {
		if _, ok := env.Error[k]; !ok {
			t.Fatalf("error body %s lacks %q", r.body, k)
		}
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if str(env.Error["code"]) != code || str(env.Error["param"]) != param || str(env.Error["message"]) == "" {
		t.Fatalf("got %s, want code %q param %q", r.body, code, param)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }
