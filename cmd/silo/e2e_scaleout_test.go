package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestE2E_ScaleOut runs three silo processes over one PostgreSQL database and
// one bucket. An upload's parts go through two of them, one of which is then
// killed; the third completes it with an md5 it must compute from the bucket;
// every instance, a new one included, serves the File byte for byte; and
// completions racing through all three make exactly one File.
func TestE2E_ScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	flags := []string{"--db", testPostgres(t), "--blobs", testS3(t)}
	start := func() *process { return startProcess(t, t.TempDir(), flags...) }
	p1, p2, p3 := start(), start(), start()
	ctx := context.Background()

	// Parts larger than the S3 store's buffer, so each is a multipart upload.
	const partSize = 9 << 20
	data := pseudoRandom(3*partSize+1<<20, 21)
	u, err := p1.client().Uploads.New(ctx, openai.UploadNewParams{
		Bytes: int64(len(data)), Filename: "scale.bin", MimeType: "application/octet-stream", Purpose: "user_data",
	})
	fatalIf(t, err)
	var pieces [][]byte
	for i := 0; i < len(data); i += partSize {
		pieces = append(pieces, data[i:min(i+partSize, len(data))])
	}
	ids := make([]string, len(pieces))
	errs := make([]error, len(pieces))
	var wg sync.WaitGroup
	for i, piece := range pieces {
		via := []*process{p1, p2}[i%2]
		wg.Go(func() {
			part, err := via.client().Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: bytes.NewReader(piece)})
			if err == nil {
				ids[i] = part.ID
			}
			errs[i] = err
		})
	}
	wg.Wait()
	fatalIf(t, errors.Join(errs...))
	p2.kill()

	done, err := p3.client().Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{
		PartIDs: ids, Md5: openai.String(md5Hex(data)),
	})
	fatalIf(t, err)
	if done.Status != "completed" || done.File.Bytes != int64(len(data)) {
		t.Fatalf("complete on the third instance: status %s, file of %d bytes; want completed, %d", done.Status, done.File.Bytes, len(data))
	}

	p2 = start() // in place of the killed one
	for i, p := range []*process{p1, p2, p3} {
		if got := fileContent(t, p.client(), done.File.ID); !bytes.Equal(got, data) {
			t.Fatalf("instance %d served %d bytes that differ from the %d uploaded", i+1, len(got), len(data))
		}
		// A range across the boundary of two parts.
		from, to := partSize-10, partSize+10
		resp, err := p.client().Files.Content(ctx, done.File.ID, option.WithHeader("Range", fmt.Sprintf("bytes=%d-%d", from, to-1)))
		fatalIf(t, err)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 206 || !bytes.Equal(got, data[from:to]) {
			t.Fatalf("instance %d, range %d-%d: status %d, %d bytes, %v; want 206 and the bytes", i+1, from, to-1, resp.StatusCode, len(got), err)
		}
	}

	for round := range 3 {
		raceOneUpload(t, round, []*process{p1, p2, p3})
	}
}

// raceResult is what one racing call through one instance got.
type raceResult struct {
	kind string // "complete" or "cancel"
	ids  []string
	up   *openai.Upload
	err  error
}

// raceOneUpload makes an upload of two parts and sends it, all at once
// through every instance, completions with the parts in one order, in the
// other order, and a cancellation. Exactly one of the three wins: every call
// that asked for the winner's outcome gets it, the others get the error of
// an upload that is no longer pending, and there is one File or none.
func raceOneUpload(t *testing.T, round int, ps []*process) {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("race-%d.bin", round)
	data := pseudoRandom(2<<20, uint32(100+round))
	u, err := ps[0].client().Uploads.New(ctx, openai.UploadNewParams{
		Bytes: int64(len(data)), Filename: name, MimeType: "application/octet-stream", Purpose: "user_data",
	})
	fatalIf(t, err)
	a, err := ps[0].client().Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: bytes.NewReader(data[:1<<20])})
	fatalIf(t, err)
	b, err := ps[2].client().Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: bytes.NewReader(data[1<<20:])})
	fatalIf(t, err)

	var results []*raceResult
	for range 2 {
		for range ps {
			results = append(results, &raceResult{kind: "complete", ids: []string{a.ID, b.ID}},
				&raceResult{kind: "complete", ids: []string{b.ID, a.ID}}, &raceResult{kind: "cancel"})
		}
	}
	begin := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range results {
		c := ps[i%len(ps)].client()
		wg.Go(func() {
			<-begin
			if r.kind == "cancel" {
				r.up, r.err = c.Uploads.Cancel(ctx, u.ID)
			} else {
				r.up, r.err = c.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: r.ids})
			}
		})
	}
	close(begin)
	wg.Wait()

	var winner *raceResult
	for _, r := range results {
		if r.err == nil {
			winner = r
			break
		}
	}
	if winner == nil {
		t.Fatalf("round %d: no call won the race; first error: %v", round, results[0].err)
	}
	fileID := ""
	if winner.kind == "complete" {
		fileID = winner.up.File.ID
	}
	for _, r := range results {
		same := r.kind == winner.kind && fmt.Sprint(r.ids) == fmt.Sprint(winner.ids)
		switch {
		case same && r.err != nil:
			t.Errorf("round %d: %s %v failed (%v) though the same call won", round, r.kind, r.ids, r.err)
		case same && r.kind == "complete" && r.up.File.ID != fileID:
			t.Errorf("round %d: completions won with two Files, %s and %s", round, r.up.File.ID, fileID)
		case !same && r.err == nil:
			t.Errorf("round %d: both %s %v and %s %v won", round, r.kind, r.ids, winner.kind, winner.ids)
		case !same:
			var e *openai.Error
			if !errors.As(r.err, &e) || e.StatusCode != 400 || (e.Code != "upload_completed" && e.Code != "upload_cancelled") {
				t.Errorf("round %d: %s %v lost with %v (%v), want 400 upload_completed or upload_cancelled", round, r.kind, r.ids, r.err, errCode(r.err))
			}
		}
	}
	files := 0
	iter := ps[1].client().Files.ListAutoPaging(ctx, openai.FileListParams{})
	for iter.Next() {
		if iter.Current().Filename == name {
			files++
		}
	}
	fatalIf(t, iter.Err())
	if want := map[bool]int{true: 1, false: 0}[fileID != ""]; files != want {
		t.Errorf("round %d: %d files named %s after the race won by %s, want %d", round, files, name, winner.kind, want)
	}
}

// errCode returns the code and message of an API error, for failure messages.
func errCode(err error) string {
	var e *openai.Error
	if errors.As(err, &e) {
		return e.Code + ": " + e.Message
	}
	return ""
}
