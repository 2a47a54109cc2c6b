package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// The quotas of the quota tests: 32 chunks of bytes, a few files and
// pending uploads.
const (
	quotaChunk   = 32 << 10
	quotaBytes   = 32 * quotaChunk // 1 MiB
	quotaFiles   = 6
	quotaPending = 3
)

var quotaFlags = []string{
	"--quota-bytes", "1MiB",
	"--quota-files", fmt.Sprint(quotaFiles),
	"--quota-pending-uploads", fmt.Sprint(quotaPending),
}

// TestE2E_Quota races parts and files against the quotas of one server on
// SQLite.
func TestE2E_Quota(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	p := startProcess(t, t.TempDir(), quotaFlags...)
	raceQuota(t, []*process{p})
}

// TestE2E_QuotaScaleOut races parts and files against the quotas through two
// servers over one PostgreSQL database and one bucket: a quota holds across
// instances.
func TestE2E_QuotaScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	flags := append([]string{"--db", testPostgres(t), "--blobs", testS3(t)}, quotaFlags...)
	p1 := startProcess(t, t.TempDir(), flags...)
	p2 := startProcess(t, t.TempDir(), flags...)
	raceQuota(t, []*process{p1, p2})
}

// countingClient returns a client of p with the SDK's default retries, and
// a counter of the requests it sends, retries included.
func countingClient(p *process) (*openai.Client, *atomic.Int64) {
	var n atomic.Int64
	c := p.client(option.WithMaxRetries(2), option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		n.Add(1)
		return next(r)
	}))
	return c, &n
}

// wantQuotaError fails unless err is the 429 of an exhausted quota, as the
// SDK sees it: type and code insufficient_quota, param null, x-should-retry
// false, and a message that says says.
func wantQuotaError(t *testing.T, what string, err error, says string) {
	t.Helper()
	var e *openai.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: got %v, want an API error", what, err)
	}
	if e.StatusCode != 429 || e.Type != "insufficient_quota" || e.Code != "insufficient_quota" || e.JSON.Param.Raw() != "null" {
		t.Errorf("%s: got %d type=%q code=%q param=%s (%s), want 429 insufficient_quota insufficient_quota null",
			what, e.StatusCode, e.Type, e.Code, e.JSON.Param.Raw(), e.Message)
	}
	if got := e.Response.Header.Get("x-should-retry"); got != "false" {
		t.Errorf("%s: x-should-retry %q, want false", what, got)
	}
	if !strings.Contains(e.Message, says) {
		t.Errorf("%s: message %q does not say %q", what, e.Message, says)
	}
}

// raceQuota fills the quotas of project default through the servers ps at
// once, and checks that the usage ends exactly at the quota, never above:
// every acknowledged part and file counts, every refusal is the quota's, and
// once room is freed exactly that much more is taken.
func raceQuota(t *testing.T, ps []*process) {
	t.Helper()
	ctx := context.Background()
	client := func(i int) *openai.Client { return ps[i%len(ps)].client() }

	var uploads []*openai.Upload
	for i := range quotaPending {
		u, err := client(i).Uploads.New(ctx, openai.UploadNewParams{
			Bytes: quotaBytes, Filename: fmt.Sprintf("q%d.bin", i), MimeType: "application/octet-stream", Purpose: "user_data",
		})
		fatalIf(t, err)
		uploads = append(uploads, u)
	}
	c, sent := countingClient(ps[len(ps)-1])
	_, err := c.Uploads.New(ctx, openai.UploadNewParams{
		Bytes: 1, Filename: "over.bin", MimeType: "application/octet-stream", Purpose: "user_data",
	})
	wantQuotaError(t, "a pending upload over the quota", err,
		fmt.Sprintf("this project has %d of its %d pending uploads (--quota-pending-uploads)", quotaPending, quotaPending))
	if n := sent.Load(); n != 1 {
		t.Errorf("the SDK sent the refused create %d times, want once: it retried", n)
	}

	// 60 parts and 20 files of one chunk each, all at once: twice the quota.
	const nParts, nFiles = 60, 20
	type result struct {
		upload int // -1 for a file
		id     string
		err    error
	}
	results := make([]result, nParts+nFiles)
	begin := make(chan struct{})
	var wg sync.WaitGroup
	for i := range results {
		data := pseudoRandom(quotaChunk, uint32(i))
		wg.Go(func() {
			<-begin
			r := &results[i]
			if i < nParts {
				r.upload = i % len(uploads)
				p, err := client(i).Uploads.Parts.New(ctx, uploads[r.upload].ID, openai.UploadPartNewParams{Data: bytes.NewReader(data)})
				if err == nil {
					r.id = p.ID
				}
				r.err = err
				return
			}
			r.upload = -1
			f, err := client(i).Files.New(ctx, openai.FileNewParams{
				File: openai.File(bytes.NewReader(data), fmt.Sprintf("f%d.bin", i), "application/octet-stream"), Purpose: openai.FilePurposeUserData,
			})
			if err == nil {
				r.id = f.ID
			}
			r.err = err
		})
	}
	close(begin)
	wg.Wait()
	var stored, files int64
	perUpload := make([]int64, len(uploads))
	var fileIDs []string
	for _, r := range results {
		if r.err != nil {
			var e *openai.Error
			if !errors.As(r.err, &e) || e.StatusCode != 429 || e.Code != "insufficient_quota" {
				t.Errorf("a part or file sent at once: got %v, want success or 429 insufficient_quota", r.err)
			}
			continue
		}
		stored += quotaChunk
		if r.upload < 0 {
			files++
			fileIDs = append(fileIDs, r.id)
		} else {
			perUpload[r.upload] += quotaChunk
		}
	}
	t.Logf("acknowledged %d bytes (%d files), quota %d bytes and %d files", stored, files, quotaBytes, quotaFiles)
	if stored != quotaBytes {
		t.Fatalf("parts and files acknowledged: %d bytes, want the quota of %d exactly", stored, quotaBytes)
	}
	if files > quotaFiles {
		t.Fatalf("files acknowledged: %d, over the quota of %d", files, quotaFiles)
	}

	// Full: one more byte is refused, and the SDK does not send it again.
	c, sent = countingClient(ps[0])
	_, err = c.Uploads.Parts.New(ctx, uploads[0].ID, openai.UploadPartNewParams{Data: bytes.NewReader([]byte("x"))})
	wantQuotaError(t, "a part over the quota", err,
		"this project stores 1,048,576 of its 1,048,576 bytes (--quota-bytes); delete files or cancel uploads to free space.")
	if n := sent.Load(); n != 1 {
		t.Errorf("the SDK sent the refused part %d times, want once: it retried", n)
	}

	// Cancelling the upload with the most parts frees exactly their bytes and
	// one pending upload: the server counted what the clients were told.
	most := 0
	for i := range uploads {
		if perUpload[i] > perUpload[most] {
			most = i
		}
	}
	_, err = client(1).Uploads.Cancel(ctx, uploads[most].ID)
	fatalIf(t, err)
	other := uploads[(most+1)%len(uploads)].ID
	want := perUpload[most] / quotaChunk
	var took int64
	for i := range want + 2 {
		_, err := client(int(i)).Uploads.Parts.New(ctx, other, openai.UploadPartNewParams{Data: bytes.NewReader(pseudoRandom(quotaChunk, 999))})
		if err != nil {
			wantQuotaError(t, "a part once the freed bytes are taken", err, "1,048,576 of its 1,048,576 bytes")
			break
		}
		took++
	}
	if took != want {
		t.Errorf("after cancelling an upload of %d bytes: %d parts of %d bytes taken, want %d", perUpload[most], took, quotaChunk, want)
	}
	if _, err := client(0).Uploads.New(ctx, openai.UploadNewParams{Bytes: 1, Filename: "again.bin", MimeType: "text/plain", Purpose: "user_data"}); err != nil {
		t.Errorf("an upload once one was cancelled: %v", err)
	}
	_, err = client(1).Uploads.New(ctx, openai.UploadNewParams{Bytes: 1, Filename: "over.bin", MimeType: "text/plain", Purpose: "user_data"})
	wantQuotaError(t, "another upload", err, "pending uploads")

	// Deleting a file frees a file and its bytes.
	if len(fileIDs) > 0 {
		_, err := client(0).Files.Delete(ctx, fileIDs[0])
		fatalIf(t, err)
		f, err := client(1).Files.New(ctx, openai.FileNewParams{
			File: openai.File(bytes.NewReader(pseudoRandom(quotaChunk, 7)), "again.bin", "application/octet-stream"), Purpose: openai.FilePurposeUserData,
		})
		fatalIf(t, err)
		if f.Bytes != quotaChunk {
			t.Errorf("file in the freed room: %d bytes, want %d", f.Bytes, quotaChunk)
		}
	}
}

// TestE2E_QuotaSDKRetriesWithoutHeader is the control of the retry counts
// above: without x-should-retry the SDK does send a 429 again, so a count
// of one means the header stopped it.
func TestE2E_QuotaSDKRetriesWithoutHeader(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After-Ms", "1")
		w.WriteHeader(429)
		fmt.Fprint(w, `{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
	}))
	defer srv.Close()
	c, sent := countingClient(&process{BaseURL: srv.URL + "/v1"})
	_, err := c.Uploads.New(context.Background(), openai.UploadNewParams{Bytes: 1, Filename: "a", MimeType: "text/plain", Purpose: "user_data"})
	if err == nil {
		t.Fatal("got no error from a server that answers 429")
	}
	if n := sent.Load(); n != 3 {
		t.Errorf("the SDK sent a 429 without x-should-retry %d times, want 3 (its default 2 retries)", n)
	}
}

// TestServe_QuotaFlags checks the quotas set from SILO_QUOTA_* variables, in
// 64MiB-style sizes, and that a quota that is no size or count is a usage
// error.
func TestServe_QuotaFlags(t *testing.T) {
	s := startSilo(t, "", map[string]string{"SILO_QUOTA_BYTES": "2KiB", "SILO_QUOTA_FILES": "1"})
	c := s.client("k")
	ctx := context.Background()
	_, err := c.Files.New(ctx, openai.FileNewParams{
		File: openai.File(bytes.NewReader(make([]byte, 2049)), "big.bin", "application/octet-stream"), Purpose: openai.FilePurposeUserData,
	})
	wantQuotaError(t, "a file over SILO_QUOTA_BYTES=2KiB", err, "this project stores 0 of its 2,048 bytes (--quota-bytes), and 2,049 more would go over it")
	_, err = c.Files.New(ctx, openai.FileNewParams{
		File: openai.File(bytes.NewReader(make([]byte, 2048)), "fits.bin", "application/octet-stream"), Purpose: openai.FilePurposeUserData,
	})
	fatalIf(t, err)

	for _, args := range [][]string{
		{"--quota-bytes", "lots"}, {"--quota-bytes", "-1"}, {"--quota-files", "-1"}, {"--quota-pending-uploads", "x"},
	} {
		err := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...),
			func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
		if exitCode(err) != 2 {
			t.Errorf("serve %v: got %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}
