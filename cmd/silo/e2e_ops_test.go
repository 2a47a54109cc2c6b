package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/silo-dev/silo/internal/faultnet"
)

// root returns the server's root URL (the base URL without /v1).
func root(baseURL string) string { return strings.TrimSuffix(baseURL, "/v1") }

// scrape reads /metrics into a map from series ("name{labels}", labels as
// the server prints them) to value.
func scrape(t *testing.T, baseURL string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(root(baseURL) + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		m[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// moved fails the test unless each series moved by exactly its delta
// between two scrapes.
func moved(t *testing.T, before, after map[string]float64, want map[string]float64) {
	t.Helper()
	for series, d := range want {
		if got := after[series] - before[series]; got != d {
			t.Errorf("%s moved by %v, want %v (before %v, after %v)", series, got, d, before[series], after[series])
		}
	}
}

// untilStatus asks GET path until it answers status, a bounded number of
// times, and returns the last body.
func untilStatus(t *testing.T, url string, status int) []byte {
	t.Helper()
	var got int
	var body []byte
	for range 150 {
		resp, err := http.Get(url)
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			got = resp.StatusCode
			if got == status {
				return body
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never answered %d: last %d %s", url, status, got, body)
	return nil
}

// TestE2E_Metrics runs a known sequence of requests and checks that the
// counters moved by exactly that.
func TestE2E_Metrics(t *testing.T) {
	s := startSilo(t, "", nil)
	c := s.client("sk-test")
	ctx := context.Background()
	base := scrape(t, s.BaseURL)

	data := pseudoRandom(3<<20/2, 7)
	u, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: int64(len(data)), Filename: "m.bin", MimeType: "application/octet-stream", Purpose: "user_data"})
	fatalIf(t, err)
	var sent int64
	var ids []string
	for _, part := range [][]byte{data[:1<<20], data[1<<20:]} {
		req := partRequest(t, s.BaseURL, u.ID, part)
		sent += req.ContentLength
		status, _, body := do(t, req)
		if status != 200 {
			t.Fatalf("part: %d %s", status, body)
		}
		ids = append(ids, partID(t, body))
	}
	done, err := c.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: ids, Md5: openai.String(md5Hex(data))})
	fatalIf(t, err)
	v, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: 1, Filename: "v", MimeType: "a/b", Purpose: "user_data"})
	fatalIf(t, err)
	_, err = c.Uploads.Cancel(ctx, v.ID)
	fatalIf(t, err)
	f, err := c.Files.New(ctx, openai.FileNewParams{File: openai.File(bytes.NewReader([]byte("hello")), "f.txt", "text/plain"), Purpose: "user_data"})
	fatalIf(t, err)
	_, err = c.Files.Delete(ctx, f.ID)
	fatalIf(t, err)
	_, err = c.Files.Get(ctx, "file_nope")
	wantAPIError(t, err, 404, "invalid_request_error", "", "file_id")
	status, _, _ := do(t, getRequestNoKey(t, s.BaseURL+"/files"))
	if status != 401 {
		t.Fatalf("GET /files without a key: %d, want 401", status)
	}

	after := scrape(t, s.BaseURL)
	total := float64(len(data))
	moved(t, base, after, map[string]float64{
		`silo_uploads_total{event="created"}`:                                                           2,
		`silo_uploads_total{event="completed"}`:                                                         1,
		`silo_uploads_total{event="cancelled"}`:                                                         1,
		`silo_uploads_total{event="expired"}`:                                                           0,
		`silo_files_total{event="created"}`:                                                             2,
		`silo_files_total{event="deleted"}`:                                                             1,
		`silo_files_created_bytes_total`:                                                                total + 5,
		`silo_http_requests_total{code="200",method="POST",route="/v1/uploads"}`:                        2,
		`silo_http_requests_total{code="200",method="POST",route="/v1/uploads/{upload_id}/parts"}`:      2,
		`silo_http_requests_total{code="200",method="POST",route="/v1/uploads/{upload_id}/complete"}`:   1,
		`silo_http_requests_total{code="200",method="POST",route="/v1/uploads/{upload_id}/cancel"}`:     1,
		`silo_http_requests_total{code="200",method="DELETE",route="/v1/files/{file_id}"}`:              1,
		`silo_http_requests_total{code="404",method="GET",route="/v1/files/{file_id}"}`:                 1,
		`silo_http_requests_total{code="401",method="GET",route="/v1/files"}`:                           1,
		`silo_http_request_duration_seconds_count{method="POST",route="/v1/uploads/{upload_id}/parts"}`: 2,
		`silo_http_received_bytes_total{route="/v1/uploads/{upload_id}/parts"}`:                         float64(sent),
		`silo_refusals_total{reason="auth"}`:                                                            1,
		`silo_refusals_total{reason="too_large"}`:                                                       0,
		`silo_parts_in_flight`:                                                                          0,
		`silo_store_operation_duration_seconds_count{op="add_part",store="metadata"}`:                   2,
		`silo_store_operation_duration_seconds_count{op="complete_upload",store="metadata"}`:            1,
		`silo_store_operation_duration_seconds_count{op="put",store="blobs"}`:                           3,
		`silo_store_operation_errors_total{code="not_found",op="get_file",store="metadata"}`:            1,
	})
	// Every byte of the File was hashed once: as it arrived, read back by the
	// chain, or by the complete.
	var hashed float64
	for _, when := range []string{"arrival", "read_back", "complete"} {
		k := `silo_md5_hashed_bytes_total{when="` + when + `"}`
		hashed += after[k] - base[k]
	}
	if hashed != total {
		t.Errorf("md5 hashed %v bytes, want %v", hashed, total)
	}
	if got := after[`silo_http_requests_in_flight`]; got != 1 {
		t.Errorf("silo_http_requests_in_flight = %v during a scrape, want 1 (the scrape)", got)
	}
	if got := after[fmt.Sprintf(`silo_build_info{goversion=%q,revision="",version="(devel)"}`, runtime.Version())]; got != 1 {
		var infos []string
		for k := range after {
			if strings.HasPrefix(k, "silo_build_info") {
				infos = append(infos, k)
			}
		}
		if len(infos) != 1 || !strings.Contains(infos[0], runtime.Version()) {
			t.Errorf("silo_build_info: %v, want one series with goversion %s", infos, runtime.Version())
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", `silo_stored_bytes`} {
		if _, ok := after[name]; !ok {
			t.Errorf("no %s in /metrics", name)
		}
	}
	// No id of any kind is a label value.
	for series := range after {
		for _, id := range []string{u.ID, done.File.ID, f.ID, "file_nope", ids[0]} {
			if strings.Contains(series, id) {
				t.Errorf("series %s has id %s in a label", series, id)
			}
		}
	}
	// The stored gauges, read from the store's usage counters every few
	// seconds: the File of the upload is stored, the one of POST /files was
	// deleted, and no upload is pending.
	var m map[string]float64
	for range 150 {
		m = scrape(t, s.BaseURL)
		if m["silo_stored_files"] == 1 && m["silo_stored_bytes"] == total && m["silo_pending_uploads"] == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("stored %v files, %v bytes, %v pending uploads; want 1, %v, 0", m["silo_stored_files"], m["silo_stored_bytes"], m["silo_pending_uploads"], total)
}

// getRequestNoKey returns a GET of url with no Authorization header.
func getRequestNoKey(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	fatalIf(t, err)
	return req
}

// TestE2E_MetricsOff checks that --metrics=false serves no /metrics.
func TestE2E_MetricsOff(t *testing.T) {
	s := startSilo(t, "", nil, "--metrics=false")
	resp, err := http.Get(root(s.BaseURL) + "/metrics")
	fatalIf(t, err)
	resp.Body.Close()
	if resp.StatusCode != 401 && resp.StatusCode != 404 {
		t.Errorf("GET /metrics with --metrics=false: %d, want no metrics (401 or 404)", resp.StatusCode)
	}
}

// logLines returns the JSON lines of a server's log, parsed.
func logLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(log, "\n") {
		if !strings.HasPrefix(l, "{") {
			continue // the no-key warning is plain text
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("log line is not JSON: %q: %v", l, err)
			continue
		}
		lines = append(lines, m)
	}
	return lines
}

// requestLine returns the request log line with request id id, waiting a
// bounded time for it.
func requestLine(t *testing.T, logs func() string, id string) map[string]any {
	t.Helper()
	for range 100 {
		for _, l := range logLines(t, logs()) {
			if l["msg"] == "request" && l["request_id"] == id {
				return l
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no request line with request_id %s in:\n%s", id, logs())
	return nil
}

// TestE2E_LogsJSON checks the JSON log: a banner, a request line per request
// with its id and fields, and a line when stopped.
func TestE2E_LogsJSON(t *testing.T) {
	s := startSilo(t, "", nil, "--log-format", "json", "--log-level", "info")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("purpose", "user_data")
	fw, _ := mw.CreateFormFile("file", "f.txt")
	fw.Write([]byte("hello"))
	mw.Close()
	size := body.Len()
	req, err := http.NewRequest("POST", s.BaseURL+"/files", &body)
	fatalIf(t, err)
	req.Header.Set("Authorization", "Bearer sk-test")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("User-Agent", strings.Repeat("u", 1000))
	resp, err := http.DefaultClient.Do(req)
	fatalIf(t, err)
	resp.Body.Close()
	id := resp.Header.Get("X-Request-Id")
	l := requestLine(t, s.stderr.String, id)
	for k, want := range map[string]any{
		"level": "INFO", "method": "POST", "route": "/v1/files", "path": "/v1/files",
		"status": float64(200), "bytes_in": float64(size), "project": "default",
	} {
		if l[k] != want {
			t.Errorf("request line %s = %v, want %v", k, l[k], want)
		}
	}
	if ua, _ := l["user_agent"].(string); len(ua) > 300 || !strings.HasPrefix(ua, "uuu") {
		t.Errorf("user_agent logged as %d bytes, want it cut to about 256", len(ua))
	}
	if c, _ := l["client"].(string); !strings.HasPrefix(c, "127.0.0.1:") {
		t.Errorf("client = %q, want 127.0.0.1:PORT", c)
	}
	if _, ok := l["duration"].(float64); !ok {
		t.Errorf("no duration in %v", l)
	}
	if _, ok := l["bytes_out"].(float64); !ok {
		t.Errorf("no bytes_out in %v", l)
	}
	s.stop()
	var started, stopped bool
	for _, l := range logLines(t, s.stderr.String()) {
		switch l["msg"] {
		case "silo started":
			started = l["url"] == s.BaseURL && l["metadata"] != nil && l["blobs"] != nil && l["limits"] != nil
		case "silo stopped":
			stopped = true
		}
	}
	if !started || !stopped {
		t.Errorf("started line ok: %v, stopped line: %v; log:\n%s", started, stopped, s.stderr.String())
	}
}

// TestE2E_ClientHangUp499 checks that a client that hangs up in the middle
// of a part is logged and counted as 499 at info, not as a 500.
func TestE2E_ClientHangUp499(t *testing.T) {
	s := startSilo(t, "", nil, "--log-format", "json")
	c := s.client("sk-test")
	u, err := c.Uploads.New(context.Background(), openai.UploadNewParams{Bytes: 8 << 20, Filename: "h", MimeType: "a/b", Purpose: "user_data"})
	fatalIf(t, err)
	before := scrape(t, s.BaseURL)

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "POST", s.BaseURL+"/uploads/"+u.ID+"/parts", pr)
	fatalIf(t, err)
	req.Header.Set("Authorization", "Bearer sk-test")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var id string
	got := make(chan struct{})
	go func() {
		defer close(got)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			id = resp.Header.Get("X-Request-Id")
			resp.Body.Close()
		}
	}()
	w, _ := mw.CreateFormFile("data", "p.bin")
	w.Write(make([]byte, 256<<10)) // the server is reading the part now
	for range 100 {
		if scrape(t, s.BaseURL)["silo_parts_in_flight"] == 1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel() // the client hangs up
	pw.CloseWithError(context.Canceled)
	<-got
	if id != "" {
		t.Fatalf("the request was answered (%s), want the client gone first", id)
	}
	var line map[string]any
	for i := 0; line == nil && i < 100; i++ {
		for _, l := range logLines(t, s.stderr.String()) {
			if l["msg"] == "request" && l["route"] == "/v1/uploads/{upload_id}/parts" {
				line = l
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if line == nil || line["status"] != float64(499) || line["level"] != "INFO" {
		t.Fatalf("request line of the hung-up part: %v, want status 499 at INFO\n%s", line, s.stderr.String())
	}
	after := scrape(t, s.BaseURL)
	moved(t, before, after, map[string]float64{
		`silo_http_requests_total{code="499",method="POST",route="/v1/uploads/{upload_id}/parts"}`: 1,
		`silo_http_requests_total{code="500",method="POST",route="/v1/uploads/{upload_id}/parts"}`: 0,
	})
}

// TestE2E_ReadyzPostgres checks that /readyz answers 503 naming the metadata
// store while PostgreSQL is cut off, and 200 once it is back.
func TestE2E_ReadyzPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	db, err := url.Parse(testPostgres(t))
	fatalIf(t, err)
	proxy := faultnet.NewProxy(t, db.Host)
	db.Host = proxy.Addr
	p := startProcess(t, t.TempDir(), "--db", db.String())
	ready := root(p.BaseURL) + "/readyz"
	untilStatus(t, ready, 200)
	proxy.Cut()
	wantFailing(t, untilStatus(t, ready, 503), "metadata")
	proxy.Restore()
	untilStatus(t, ready, 200)
}

// TestE2E_ReadyzS3 checks that /readyz answers 503 naming the blob store
// while S3 is cut off, and 200 once it is back.
func TestE2E_ReadyzS3(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	m := startMinio(t)
	ensureBucket(t, s3Client(t, m.Endpoint), "ready")
	proxy := faultnet.NewProxy(t, strings.TrimPrefix(m.Endpoint, "http://"))
	blobs := "s3://ready/run?endpoint=" + url.QueryEscape("http://"+proxy.Addr) + "&region=us-east-1"
	p := startProcess(t, t.TempDir(), "--blobs", blobs)
	ready := root(p.BaseURL) + "/readyz"
	untilStatus(t, ready, 200)
	proxy.Cut()
	wantFailing(t, untilStatus(t, ready, 503), "blobs")
	proxy.Restore()
	untilStatus(t, ready, 200)
}

// wantFailing fails the test unless a /readyz body names just part.
func wantFailing(t *testing.T, body []byte, part string) {
	t.Helper()
	var r struct {
		Status  string
		Failing []string
	}
	if err := json.Unmarshal(body, &r); err != nil || len(r.Failing) != 1 || r.Failing[0] != part {
		t.Errorf("/readyz body %s, want failing [%s]", body, part)
	}
}

// TestE2E_ReadyzSIGTERM checks that on SIGTERM /readyz turns 503 at once
// while a slow part is still arriving, that the part still succeeds, and
// that the server then stops cleanly.
func TestE2E_ReadyzSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	p := startProcess(t, t.TempDir(), "--drain-delay", "60s")
	c := p.client()
	u, err := c.Uploads.New(context.Background(), openai.UploadNewParams{Bytes: 1 << 20, Filename: "s", MimeType: "a/b", Purpose: "user_data"})
	fatalIf(t, err)

	part := startPart(t, http.DefaultClient, p.BaseURL, "sk-test", u.ID)
	part.Data.Write(make([]byte, 512<<10))
	for i := 0; scrape(t, p.BaseURL)["silo_parts_in_flight"] != 1; i++ {
		if i == 100 {
			t.Fatal("the slow part never reached the server")
		}
		time.Sleep(50 * time.Millisecond)
	}

	fatalIf(t, p.cmd.Process.Signal(syscall.SIGTERM))
	wantFailing(t, untilStatus(t, root(p.BaseURL)+"/readyz", 503), "server")

	part.Data.Write(make([]byte, 512<<10))
	if got := part.finish(); got != 200 {
		t.Errorf("the part in flight at SIGTERM got %d, want 200", got)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("silo after SIGTERM: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("silo did not stop after SIGTERM\n%s", p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "silo stopped") {
		t.Errorf("no stopped line in the log:\n%s", p.stderr.String())
	}
}
