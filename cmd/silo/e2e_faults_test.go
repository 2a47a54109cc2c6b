package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/silo-dev/silo/internal/faultnet"
)

// untilOK sends the request that makeReq makes until it answers 200, a
// bounded number of times, and returns the last body; it fails the test if
// the server never recovers.
func untilOK(t *testing.T, what string, makeReq func() *http.Request) []byte {
	t.Helper()
	var status int
	var body []byte
	for range 200 {
		status, _, body = do(t, makeReq())
		if status == 200 {
			return body
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never succeeded once the service was back: last status %d, %s", what, status, body)
	return nil
}

// partID returns the id in the JSON of an upload part.
func partID(t *testing.T, body []byte) string {
	t.Helper()
	var p struct{ ID string }
	if err := json.Unmarshal(body, &p); err != nil || p.ID == "" {
		t.Fatalf("part: %s: %v", body, err)
	}
	return p.ID
}

// TestE2E_Faults_S3 kills the S3 server (a MinIO of the test's own) while a
// part streams in, and checks that requests needing it fail fast with 503,
// Retry-After and the error body, that nothing half-made is left, and that
// the same silo process serves again once S3 is back.
func TestE2E_Faults_S3(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	m := startMinio(t)
	s3c := s3Client(t, m.Endpoint)
	ensureBucket(t, s3c, "faults")
	blobs := "s3://faults/run?endpoint=" + url.QueryEscape(m.Endpoint) + "&region=us-east-1"
	p := startProcess(t, t.TempDir(), "--blobs", blobs)
	c := p.client()
	ctx := context.Background()

	// Before the fault: a File, an upload with one part, an upload with both.
	fileData := pseudoRandom(3<<20, 31)
	f, err := c.Files.New(ctx, openai.FileNewParams{File: openai.File(bytes.NewReader(fileData), "f.bin", "application/octet-stream"), Purpose: "user_data"})
	fatalIf(t, err)
	const half = 10 << 20 // more than one buffer of the S3 store: a multipart upload
	uData := pseudoRandom(2*half, 32)
	u, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: int64(len(uData)), Filename: "u.bin", MimeType: "application/octet-stream", Purpose: "user_data"})
	fatalIf(t, err)
	a, err := c.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: bytes.NewReader(uData[:half])})
	fatalIf(t, err)
	vData := pseudoRandom(2<<20, 33)
	v, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: int64(len(vData)), Filename: "v.bin", MimeType: "application/octet-stream", Purpose: "user_data"})
	fatalIf(t, err)
	v1, err := c.Uploads.Parts.New(ctx, v.ID, openai.UploadPartNewParams{Data: bytes.NewReader(vData[:1<<20])})
	fatalIf(t, err)
	v2, err := c.Uploads.Parts.New(ctx, v.ID, openai.UploadPartNewParams{Data: bytes.NewReader(vData[1<<20:])})
	fatalIf(t, err)

	// The second part of u is streaming in when S3 dies.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	req, _ := http.NewRequest("POST", p.BaseURL+"/uploads/"+u.ID+"/parts", pr)
	req.Header.Set("Authorization", "Bearer sk-test")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	type answer struct {
		resp *http.Response
		body []byte
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		var body []byte
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		answered <- answer{resp, body, err}
	}()
	w, _ := mw.CreateFormFile("data", "b.bin")
	if _, err := w.Write(uData[half : half+9<<20]); err != nil {
		t.Fatalf("streaming the part: %v", err)
	}
	m.stop()
	w.Write(uData[half+9<<20:])
	mw.Close()
	pw.Close()
	if got := <-answered; got.err != nil {
		// The server may answer before it has read the whole body, and the
		// client see the connection closed under its last writes.
		t.Logf("the part streaming in when S3 died: %v", got.err)
	} else {
		want503(t, "the part streaming in when S3 died", got.resp.StatusCode, got.resp.Header.Get("Retry-After"), got.body)
	}

	// While S3 is down.
	status, ra, body := do(t, partRequest(t, p.BaseURL, u.ID, uData[half:]))
	want503(t, "a part sent while S3 is down", status, ra, body)
	// Parts out of the order they came in: the md5 needs the bytes read back.
	_, err = c.Uploads.Complete(ctx, v.ID, openai.UploadCompleteParams{PartIDs: []string{v2.ID, v1.ID}, Md5: openai.String(md5Hex(vData))})
	wantAPIError(t, err, 503, "server_error", "service_unavailable", "")
	status, _, body = do(t, getRequest(t, p.BaseURL, "/files/"+f.ID))
	if status != 200 {
		t.Errorf("GET /files/%s, a record only, with S3 down: status %d (%s), want 200", f.ID, status, body)
	}
	checkDownloadFails(t, p.BaseURL, f.ID)

	// S3 comes back; the same silo process serves again.
	m.start(t)
	b := partID(t, untilOK(t, "a part", func() *http.Request { return partRequest(t, p.BaseURL, u.ID, uData[half:]) }))
	done, err := c.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: []string{a.ID, b}, Md5: openai.String(md5Hex(uData))})
	fatalIf(t, err)
	// v stayed pending through its failed complete.
	vDone, err := c.Uploads.Complete(ctx, v.ID, openai.UploadCompleteParams{PartIDs: []string{v1.ID, v2.ID}, Md5: openai.String(md5Hex(vData))})
	fatalIf(t, err)
	for _, want := range []struct {
		id   string
		data []byte
	}{{f.ID, fileData}, {done.File.ID, uData}, {vDone.File.ID, vData}} {
		if got := fileContent(t, c, want.id); !bytes.Equal(got, want.data) {
			t.Errorf("file %s after S3 came back: %d bytes that differ from the %d stored", want.id, len(got), len(want.data))
		}
	}
	// Nothing half-made: the bucket holds the blobs of the three Files only.
	if n, want := countObjects(t, s3c, blobs), 1+2+2; n != want {
		t.Errorf("%d objects in the bucket, want %d: the blobs of the Files", n, want)
	}
}

// checkDownloadFails checks that downloading a File while its bytes cannot
// be read fails before the response begins: 503 with Retry-After, never a
// 200 that is cut off or complete-looking.
func checkDownloadFails(t *testing.T, baseURL, id string) {
	t.Helper()
	status, ra, body := do(t, getRequest(t, baseURL, "/files/"+id+"/content"))
	want503(t, "a download with S3 down", status, ra, body)
}

// TestE2E_Faults_Postgres cuts a silo process off from PostgreSQL: requests
// fail fast with 503, a part whose record could not be made leaves no bytes,
// and the process serves again once the database can be reached.
func TestE2E_Faults_Postgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	db, err := url.Parse(testPostgres(t))
	fatalIf(t, err)
	proxy := faultnet.NewProxy(t, db.Host)
	db.Host = proxy.Addr
	data := t.TempDir()
	p := startProcess(t, data, "--db", db.String())
	c := p.client()
	ctx := context.Background()

	uData := pseudoRandom(2<<20, 41)
	u, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: int64(len(uData)), Filename: "u.bin", MimeType: "application/octet-stream", Purpose: "user_data"})
	fatalIf(t, err)
	a, err := c.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: bytes.NewReader(uData[:1<<20])})
	fatalIf(t, err)

	proxy.Cut()
	status, ra, body := do(t, partRequest(t, p.BaseURL, u.ID, uData[1<<20:]))
	want503(t, "a part sent while PostgreSQL is down", status, ra, body)
	_, err = c.Uploads.New(ctx, openai.UploadNewParams{Bytes: 1, Filename: "x", MimeType: "a/b", Purpose: "user_data"})
	wantAPIError(t, err, 503, "server_error", "service_unavailable", "")
	status, ra, body = do(t, getRequest(t, p.BaseURL, "/files"))
	want503(t, "GET /files while PostgreSQL is down", status, ra, body)

	proxy.Restore()
	b := partID(t, untilOK(t, "a part", func() *http.Request { return partRequest(t, p.BaseURL, u.ID, uData[1<<20:]) }))
	done, err := c.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: []string{a.ID, b}, Md5: openai.String(md5Hex(uData))})
	fatalIf(t, err)
	if got := fileContent(t, c, done.File.ID); !bytes.Equal(got, uData) {
		t.Errorf("file after PostgreSQL came back: %d bytes that differ", len(got))
	}
	// The part refused while the database was away left no bytes behind.
	if n := countBlobs(t, data); n != 2 {
		t.Errorf("%d blobs on disk, want %d: the File's parts", n, 2)
	}
	if n := countTemp(t, data); n != 0 {
		t.Errorf("%d temporary files on disk, want none", n)
	}
}
