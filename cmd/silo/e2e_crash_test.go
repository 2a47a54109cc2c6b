package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
)

// TestE2E_Crash SIGKILLs a server process while a part is streaming in, then
// restarts it on the same data dir: every acknowledged part and File is intact,
// the half-sent part is nowhere, and no orphaned bytes remain.
func TestE2E_Crash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	data := t.TempDir()
	p := startProcess(t, data)
	c := p.client()
	ctx := context.Background()

	fileBytes := pseudoRandom(3_000_000, 11)
	u, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: int64(len(fileBytes)), Filename: "a.bin", MimeType: "application/octet-stream", Purpose: "user_data"})
	fatalIf(t, err)
	var ids []string
	for i := 0; i < len(fileBytes); i += 1_000_000 {
		part, err := c.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: bytes.NewReader(fileBytes[i : i+1_000_000])})
		fatalIf(t, err)
		ids = append(ids, part.ID)
	}
	done, err := c.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: ids})
	fatalIf(t, err)

	pendingBytes := pseudoRandom(500_000, 12)
	pending, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: int64(len(pendingBytes)), Filename: "b.bin", MimeType: "application/octet-stream", Purpose: "user_data"})
	fatalIf(t, err)
	acked, err := c.Uploads.Parts.New(ctx, pending.ID, openai.UploadPartNewParams{Data: bytes.NewReader(pendingBytes)})
	fatalIf(t, err)

	// A part that is half sent when the server dies.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	req, _ := http.NewRequest("POST", p.BaseURL+"/uploads/"+pending.ID+"/parts", pr)
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	sent := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		sent <- err
	}()
	w, _ := mw.CreateFormFile("data", "half.bin")
	for range 4 {
		if _, err := w.Write(pseudoRandom(1<<20, 13)); err != nil {
			t.Fatalf("streaming the half part: %v", err)
		}
	}
	// Wait for the server to have begun writing the part to disk.
	for i := 0; countTemp(t, data) == 0; i++ {
		if i == 200 {
			t.Fatal("the server never began writing the streamed part")
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.kill()
	pw.CloseWithError(io.ErrUnexpectedEOF)
	<-sent

	p2 := startProcess(t, data)
	c2 := p2.client()
	if n := countTemp(t, data); n != 0 {
		t.Errorf("%d temporary files left after restart", n)
	}
	if n := countBlobs(t, data); n != 4 {
		t.Errorf("got %d blobs after restart, want the 4 acknowledged parts", n)
	}
	resp, err := c2.Files.Content(ctx, done.File.ID)
	fatalIf(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	fatalIf(t, err)
	if !bytes.Equal(got, fileBytes) {
		t.Fatalf("file after crash: %d bytes that differ from the %d acknowledged", len(got), len(fileBytes))
	}
	finished, err := c2.Uploads.Complete(ctx, pending.ID, openai.UploadCompleteParams{PartIDs: []string{acked.ID}})
	fatalIf(t, err)
	resp, err = c2.Files.Content(ctx, finished.File.ID)
	fatalIf(t, err)
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, pendingBytes) {
		t.Fatal("the part acknowledged before the crash lost bytes")
	}
}

// countBlobs counts the stored blobs under a data dir, leaving out temporary files.
func countBlobs(t *testing.T, data string) int {
	t.Helper()
	n := 0
	walkFiles(t, filepath.Join(data, "blobs", "blobs"), func(string) { n++ })
	return n
}

// countTemp counts the blob store's temporary files under a data dir.
func countTemp(t *testing.T, data string) int {
	t.Helper()
	n := 0
	walkFiles(t, filepath.Join(data, "blobs", "tmp"), func(string) { n++ })
	return n
}

func walkFiles(t *testing.T, root string, fn func(string)) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fn(path)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
}
