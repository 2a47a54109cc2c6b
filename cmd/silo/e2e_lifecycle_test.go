package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestE2E_Lifecycle drives the whole lifecycle with the official SDK: parts
// sent in parallel and out of order, completion with md5, retrieve, list,
// download, ranges across parts, delete.
func TestE2E_Lifecycle(t *testing.T) {
	s := startSilo(t, "", nil)
	c := s.client("sk-anything")
	ctx := context.Background()

	const nparts, partSize, last = 8, 300_000, 123_457
	data := pseudoRandom((nparts-1)*partSize+last, 7)
	u, err := c.Uploads.New(ctx, openai.UploadNewParams{
		Bytes: int64(len(data)), Filename: "train.jsonl", MimeType: "application/jsonl", Purpose: openai.FilePurposeFineTune,
	})
	fatalIf(t, err)
	if u.Status != "pending" || u.Bytes != int64(len(data)) || u.ExpiresAt != u.CreatedAt+3600 || !strings.HasPrefix(u.ID, "upload_") {
		t.Fatalf("created upload: %+v", u)
	}
	if !u.JSON.File.Valid() && u.JSON.File.Raw() != "null" {
		t.Fatalf("upload.file must be present and null, got %q", u.JSON.File.Raw())
	}

	ids := make([]string, nparts)
	var wg sync.WaitGroup
	errs := make(chan error, nparts)
	for _, i := range rand.Perm(nparts) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			end := min((i+1)*partSize, len(data))
			p, err := c.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: bytes.NewReader(data[i*partSize : end])})
			if err != nil {
				errs <- err
				return
			}
			if p.Object != "upload.part" || p.UploadID != u.ID {
				errs <- fmt.Errorf("part %+v", p)
			}
			ids[i] = p.ID
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	done, err := c.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: ids, Md5: openai.String(hex.EncodeToString(sum[:]))})
	fatalIf(t, err)
	if done.Status != "completed" || done.File.Bytes != int64(len(data)) || done.File.Filename != "train.jsonl" || !strings.HasPrefix(done.File.ID, "file-") {
		t.Fatalf("completed upload: %+v", done)
	}
	again, err := c.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: ids})
	fatalIf(t, err)
	if again.File.ID != done.File.ID {
		t.Fatalf("retried complete gave file %s, want %s", again.File.ID, done.File.ID)
	}

	f, err := c.Files.Get(ctx, done.File.ID)
	fatalIf(t, err)
	if f.Status != "processed" || f.Purpose != "fine-tune" || f.Bytes != int64(len(data)) {
		t.Fatalf("retrieved file: %+v", f)
	}
	resp, err := c.Files.Content(ctx, f.ID)
	fatalIf(t, err)
	got, err := io.ReadAll(resp.Body)
	fatalIf(t, err)
	resp.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes that differ from the %d sent", len(got), len(data))
	}
	if resp.Header.Get("Content-Length") != fmt.Sprint(len(data)) {
		t.Errorf("Content-Length %q, want %d", resp.Header.Get("Content-Length"), len(data))
	}

	// Ranges that cross part boundaries, and a suffix range.
	for _, r := range []struct {
		header   string
		from, to int
	}{
		{"bytes=299990-900010", 299990, 900011},
		{"bytes=0-0", 0, 1},
		{fmt.Sprintf("bytes=%d-", len(data)-5), len(data) - 5, len(data)},
		{"bytes=-700000", len(data) - 700000, len(data)},
	} {
		resp, err := c.Files.Content(ctx, f.ID, option.WithHeader("Range", r.header))
		fatalIf(t, err)
		got, err := io.ReadAll(resp.Body)
		fatalIf(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, data[r.from:r.to]) {
			t.Errorf("Range %s: status %d, %d bytes; want 206 and bytes %d..%d", r.header, resp.StatusCode, len(got), r.from, r.to)
		}
		if want := fmt.Sprintf("bytes %d-%d/%d", r.from, r.to-1, len(data)); resp.Header.Get("Content-Range") != want {
			t.Errorf("Range %s: Content-Range %q, want %q", r.header, resp.Header.Get("Content-Range"), want)
		}
	}

	page, err := c.Files.List(ctx, openai.FileListParams{})
	fatalIf(t, err)
	if len(page.Data) != 1 || page.Data[0].ID != f.ID || page.HasMore {
		t.Fatalf("list: %+v", page.Data)
	}
	del, err := c.Files.Delete(ctx, f.ID)
	fatalIf(t, err)
	if !del.Deleted || del.ID != f.ID {
		t.Fatalf("delete: %+v", del)
	}
	_, err = c.Files.Get(ctx, f.ID)
	wantAPIError(t, err, 404, "invalid_request_error", "", "file_id")
}

// TestE2E_FilesPaging pages through files with the SDK's auto-pager, deleting
// as it goes, in both orders.
func TestE2E_FilesPaging(t *testing.T) {
	s := startSilo(t, "", nil)
	c := s.client("k")
	ctx := context.Background()
	var ids []string
	for i := range 25 {
		f, err := c.Files.New(ctx, openai.FileNewParams{
			File: openai.File(strings.NewReader(fmt.Sprint(i)), fmt.Sprintf("f%d.txt", i), "text/plain"), Purpose: openai.FilePurposeAssistants,
		})
		fatalIf(t, err)
		ids = append(ids, f.ID)
	}
	var seen []string
	iter := c.Files.ListAutoPaging(ctx, openai.FileListParams{Limit: openai.Int(4), Order: openai.FileListParamsOrderAsc})
	for iter.Next() {
		f := iter.Current()
		seen = append(seen, f.ID)
		_, err := c.Files.Delete(ctx, f.ID) // deleting as it pages must not break the cursor
		fatalIf(t, err)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != strings.Join(ids, ",") {
		t.Fatalf("paged %d files, want all %d in creation order", len(seen), len(ids))
	}
	_, err := c.Files.List(ctx, openai.FileListParams{After: openai.String("file-neverexisted")})
	wantAPIError(t, err, 400, "invalid_request_error", "invalid_value", "after")
}

// TestE2E_Projects checks that every object is invisible to other projects.
func TestE2E_Projects(t *testing.T) {
	s := startSilo(t, "", map[string]string{"SILO_API_KEYS": "sk-a=proj_a,sk-b=proj_b,sk-c"})
	a, b := s.client("sk-a"), s.client("sk-b")
	ctx := context.Background()
	u, err := a.Uploads.New(ctx, openai.UploadNewParams{Bytes: 1, Filename: "x.jsonl", MimeType: "application/jsonl", Purpose: openai.FilePurposeBatch})
	fatalIf(t, err)
	_, err = b.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: strings.NewReader("x")})
	wantAPIError(t, err, 404, "invalid_request_error", "", "upload_id")
	p, err := a.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: strings.NewReader("x")})
	fatalIf(t, err)
	_, err = b.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: []string{p.ID}})
	wantAPIError(t, err, 404, "invalid_request_error", "", "upload_id")
	_, err = b.Uploads.Cancel(ctx, u.ID)
	wantAPIError(t, err, 404, "invalid_request_error", "", "upload_id")
	done, err := a.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: []string{p.ID}})
	fatalIf(t, err)
	for _, call := range []func() error{
		func() error { _, err := b.Files.Get(ctx, done.File.ID); return err },
		func() error { _, err := b.Files.Delete(ctx, done.File.ID); return err },
		func() error { _, err := b.Files.Content(ctx, done.File.ID); return err },
	} {
		wantAPIError(t, call(), 404, "invalid_request_error", "", "file_id")
	}
	if page, err := b.Files.List(ctx, openai.FileListParams{}); err != nil || len(page.Data) != 0 {
		t.Fatalf("project b: %v, %v; want no files of project a", page, err)
	}
	_, err = b.Files.List(ctx, openai.FileListParams{After: openai.String(done.File.ID)})
	wantAPIError(t, err, 400, "invalid_request_error", "invalid_value", "after")
	_, err = s.client("sk-wrong").Files.List(ctx, openai.FileListParams{})
	wantAPIError(t, err, 401, "invalid_request_error", "invalid_api_key", "")
	// A key without a project belongs to project "default".
	if page, err := s.client("sk-c").Files.List(ctx, openai.FileListParams{}); err != nil || len(page.Data) != 0 {
		t.Fatalf("project default: %v, %v; want no files of project a", page, err)
	}
}

// wantAPIError fails unless err is an API error with the status, type, code
// and param ("" for null).
func wantAPIError(t *testing.T, err error, status int, typ, code, param string) {
	t.Helper()
	var e *openai.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an API error %d %s", err, status, code)
	}
	if e.StatusCode != status || e.Type != typ || e.Code != code || e.Param != param {
		t.Fatalf("got %d type=%q code=%q param=%q (%s), want %d type=%q code=%q param=%q",
			e.StatusCode, e.Type, e.Code, e.Param, e.Message, status, typ, code, param)
	}
	if e.Message == "" {
		t.Fatalf("error %d %s has no message", status, code)
	}
}

// TestE2E_FileExpiry checks the expiry the SDK asks for on files and uploads,
// and the 30-day default of purpose batch.
func TestE2E_FileExpiry(t *testing.T) {
	s := startSilo(t, "", nil)
	c := s.client("k")
	ctx := context.Background()
	f, err := c.Files.New(ctx, openai.FileNewParams{
		File: openai.File(strings.NewReader("x"), "x.txt", "text/plain"), Purpose: openai.FilePurposeUserData,
		ExpiresAfter: openai.FileNewParamsExpiresAfter{Seconds: 7200},
	})
	fatalIf(t, err)
	if f.ExpiresAt != f.CreatedAt+7200 {
		t.Errorf("file with expires_after 7200: expires_at - created_at = %d", f.ExpiresAt-f.CreatedAt)
	}
	b, err := c.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader("x"), "b.jsonl", "application/jsonl"), Purpose: openai.FilePurposeBatch})
	fatalIf(t, err)
	if b.ExpiresAt != b.CreatedAt+30*24*3600 {
		t.Errorf("batch file: expires_at - created_at = %d, want 30 days", b.ExpiresAt-b.CreatedAt)
	}
	n, err := c.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader("x"), "n.txt", "text/plain"), Purpose: openai.FilePurposeAssistants})
	fatalIf(t, err)
	if n.ExpiresAt != 0 || n.JSON.ExpiresAt.Raw() != "null" {
		t.Errorf("assistants file: expires_at %q, want null", n.JSON.ExpiresAt.Raw())
	}
	u, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: 1, Filename: "u", MimeType: "a/b", Purpose: openai.FilePurposeEvals,
		ExpiresAfter: openai.UploadNewParamsExpiresAfter{Seconds: 3600}})
	fatalIf(t, err)
	p, err := c.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: strings.NewReader("u")})
	fatalIf(t, err)
	done, err := c.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: []string{p.ID}})
	fatalIf(t, err)
	if done.File.ExpiresAt != done.File.CreatedAt+3600 {
		t.Errorf("file of an upload with expires_after 3600: expires_at - created_at = %d", done.File.ExpiresAt-done.File.CreatedAt)
	}
}
