package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// checkContent fails unless the File of the completed Upload printed in out
// holds data, read back through files content.
func checkContent(t *testing.T, c *cli, out string, data []byte) map[string]any {
	t.Helper()
	up := object(t, out)
	hasKeys(t, "upload", up, uploadKeys...)
	if up["status"] != "completed" || up["bytes"] != float64(len(data)) {
		t.Fatalf("upload: %v", up)
	}
	f := up["file"].(map[string]any)
	got := c.mustRun("files", "content", f["id"].(string)).stdout
	if got != string(data) {
		t.Fatalf("content differs: got %d bytes, want %d", len(got), len(data))
	}
	return up
}

// TestUpload_Parallel sends a file whose size is not a multiple of the part
// size, with four parts in flight at once, and reads it back byte for byte.
func TestUpload_Parallel(t *testing.T) {
	p := newPartProxy(t, startServer(t))
	c := newCLI(t, p.URL)
	const partSize = 64 << 10
	data := testData(20*partSize+12345, 2)
	path := writeTemp(t, "train.jsonl", data)

	// The first four parts wait for each other: they must be in flight together.
	var arrived sync.WaitGroup
	arrived.Add(4)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	p.hook = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n <= 4 {
			arrived.Done()
			select {
			case <-all:
			case <-time.After(30 * time.Second):
				t.Error("four parts were never in flight at the same time")
			}
		}
		return false
	}

	r := c.mustRun("upload", path, "--purpose", "fine-tune", "--part-size", "64KiB", "--parallel", "4")
	up := checkContent(t, c, r.stdout, data)
	if up["filename"] != "train.jsonl" || up["purpose"] != "fine-tune" {
		t.Errorf("upload: %v", up)
	}
	if sent := p.forwarded(); len(sent) != 21 {
		t.Errorf("parts sent: got %d, want 21", len(sent))
	}
	if want := `^uploaded ` + regexp.QuoteMeta(path) + ` → file-\w+ \(1\.3 MiB in (\d+\.\d s|[\dhms]+), [\d.]+ [KMG]?i?B/s\)$`; !regexp.MustCompile(want).MatchString(strings.TrimSpace(r.stderr)) {
		t.Errorf("stderr %q is not the summary line %s", r.stderr, want)
	}
	if left, _ := filepath.Glob(filepath.Join(c.cache, "*")); len(left) != 0 {
		t.Errorf("state left after completion: %v", left)
	}
}

// TestUpload_MD5 sends the digest computed while sending, which the server
// accepts, with options for the name and type.
func TestUpload_MD5(t *testing.T) {
	c := newCLI(t, startServer(t))
	data := testData(300_001, 3)
	path := writeTemp(t, "x.bin", data)
	r := c.mustRun("upload", path, "--purpose", "user_data", "--part-size", "10000", "--parallel", "3", "--md5",
		"--filename", "y.csv", "--mime-type", "text/csv")
	up := checkContent(t, c, r.stdout, data)
	if up["filename"] != "y.csv" {
		t.Errorf("filename: %v", up["filename"])
	}
	if !strings.Contains(r.stderr, ", md5 ok)") {
		t.Errorf("summary does not say the digest was checked: %q", r.stderr)
	}
	// An empty file is one empty part.
	r = c.mustRun("upload", writeTemp(t, "empty.txt", nil), "--purpose", "user_data", "--md5")
	checkContent(t, c, r.stdout, nil)
	sum := md5.Sum(data)
	// The server checked the digest; a wrong one is refused.
	id := object(t, c.mustRun("uploads", "create", "--bytes", "3", "--filename", "z", "--mime-type", "text/plain", "--purpose", "user_data").stdout)["id"].(string)
	part := object(t, c.mustRun("uploads:parts", "create", id, "--data", writeTemp(t, "z", []byte("abc"))).stdout)["id"].(string)
	bad := c.run("uploads", "complete", id, "--part-id", part, "--md5", hex.EncodeToString(sum[:]))
	if bad.code != 1 || object(t, bad.stdout)["error"].(map[string]any)["code"] != "md5_mismatch" {
		t.Errorf("wrong md5: exit %d\n%s", bad.code, bad.stdout)
	}
}

// TestUpload_Retry answers a part with 503 once: the part is sent again and
// the upload completes. A 400 is not tried again.
func TestUpload_Retry(t *testing.T) {
	p := newPartProxy(t, startServer(t))
	c := newCLI(t, p.URL)
	data := testData(50_000, 4)
	path := writeTemp(t, "r.bin", data)
	p.hook = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n != 2 {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":{"message":"busy","type":"server_error","param":null,"code":"service_unavailable"}}`))
		return true
	}
	r := c.mustRun("upload", path, "--purpose", "user_data", "--part-size", "10000", "--parallel", "2")
	checkContent(t, c, r.stdout, data)
	if !strings.Contains(r.stderr, "try 2 of 5") {
		t.Errorf("stderr does not tell of the retry: %q", r.stderr)
	}
	if got := len(p.forwarded()); got != 5 {
		t.Errorf("parts forwarded: got %d, want 5", got)
	}

	p.hook = func(n int, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":{"message":"no","type":"invalid_request_error","param":"data","code":"invalid_value"}}`))
		return true
	}
	r = c.run("upload", path, "--purpose", "user_data", "--part-size", "50000")
	if r.code != 1 || object(t, r.stdout)["error"].(map[string]any)["code"] != "invalid_value" {
		t.Errorf("upload refused: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.count != 1 {
		t.Errorf("a 400 was tried %d times, want 1", p.count)
	}
}

// interrupt makes the next upload through p stop as Ctrl-C would once k parts
// are acknowledged: the first k part requests go through, later ones are held
// until parallel of them wait, which can only happen once every worker has
// recorded its earlier parts; then ctx is cancelled.
func interrupt(p *partProxy, k, parallel int, cancel context.CancelFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n <= k {
			return false
		}
		if n == k+parallel {
			cancel()
		}
		<-r.Context().Done()
		return true
	}
}

// savedParts returns the indexes of the parts the state in dir records.
func savedParts(t *testing.T, dir string) map[int]bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "upload-*.json"))
	if len(files) != 1 {
		t.Fatalf("state files: %v, want one", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Parts []string }
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	m := map[int]bool{}
	for i, id := range st.Parts {
		if id != "" {
			m[i] = true
		}
	}
	return m
}

// TestUpload_Resume interrupts an upload after some parts are acknowledged,
// runs the same command again, and checks that exactly the parts not
// acknowledged are sent the second time, and that the digest over both runs
// is right.
func TestUpload_Resume(t *testing.T) {
	p := newPartProxy(t, startServer(t))
	c := newCLI(t, p.URL)
	const partSize, k, parallel = 8000, 5, 3
	data := testData(17*partSize+777, 5)
	path := writeTemp(t, "big.bin", data)
	index := partDigests(data, partSize)
	args := []string{"upload", path, "--purpose", "user_data", "--part-size", "8000", "--parallel", "3", "--md5"}

	ctx, cancel := context.WithCancel(context.Background())
	interrupt(p, k, parallel, cancel)
	r := c.runCtx(ctx, args...)
	if r.code != 130 || !strings.Contains(r.stderr, "run the same command again") || !strings.Contains(r.stderr, "silo upload "+path) {
		t.Fatalf("interrupted upload: exit %d\nstderr: %s", r.code, r.stderr)
	}
	first := map[int]bool{}
	for _, d := range p.forwarded() {
		first[index[d]] = true
	}
	saved := savedParts(t, c.cache)
	if len(saved) != k || len(first) != k {
		t.Fatalf("acknowledged parts: state has %v, proxy forwarded %v; want %d", saved, first, k)
	}
	for i := range first {
		if !saved[i] {
			t.Fatalf("part %d was acknowledged but not saved", i)
		}
	}

	p.hook = nil
	r = c.mustRun(args...)
	if !strings.Contains(r.stderr, "resuming upload") || !strings.Contains(r.stderr, fmt.Sprintf("%d of 18 parts resumed", k)) {
		t.Errorf("stderr does not say it resumes: %q", r.stderr)
	}
	checkContent(t, c, r.stdout, data)
	second := map[int]int{}
	for _, d := range p.forwarded() {
		second[index[d]]++
	}
	for i := range len(index) {
		want := 1
		if saved[i] {
			want = 0
		}
		if second[i] != want {
			t.Errorf("part %d sent %d times after resuming, want %d", i, second[i], want)
		}
	}
}

// TestUpload_TooManyParts: a part size that would make more parts than an
// upload takes is refused before anything is sent (no server listens).
func TestUpload_TooManyParts(t *testing.T) {
	c := newCLI(t, "http://127.0.0.1:1/v1")
	path := writeTemp(t, "many.bin", testData(20_001, 7))
	r := c.run("upload", path, "--purpose", "user_data", "--part-size", "2")
	if r.code != 2 || !strings.Contains(r.stderr, "at most 10000") {
		t.Fatalf("exit %d, stderr %q; want a usage error naming the limit", r.code, r.stderr)
	}
}
