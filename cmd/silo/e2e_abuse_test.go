package main

// The abuse suite: what a hostile client, with or without a key, can do to a
// real server, with small limits (--stall-timeout 1s). Each test starts a
// server process of its own, so that its peak RSS (VmHWM) and descriptors are
// the test's alone. Loops are bounded; every server listens on 127.0.0.1.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

const (
	abuseKey = "sk-abuse"
	// rssBudget is the memory goal of the server under abuse: peak RSS.
	rssBudget = 150 << 20
	// closeWithin is how long after the stall timeout a dropped connection
	// may take to be closed: the stall timeout, a queued part's wait for its
	// turn (5 s), and slack for a loaded machine.
	closeWithin = 15 * time.Second
)

// abuseServer is a server process with one key and a 1 s stall timeout.
type abuseServer struct {
	*process
	pid  int
	addr string // host:port
	data string
}

func startAbuse(t *testing.T, flags ...string) *abuseServer {
	t.Helper()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := os.WriteFile(keys, []byte(abuseKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	p := launch(t, serveCmd(siloBinary(t), data, nil, append([]string{"--api-keys-file", keys, "--stall-timeout", "1s"}, flags...)...), http.DefaultClient)
	addr := strings.TrimSuffix(strings.TrimPrefix(p.BaseURL, "http://"), "/v1")
	return &abuseServer{process: p, pid: p.cmd.Process.Pid, addr: addr, data: data}
}

func (s *abuseServer) sdk(opts ...option.RequestOption) *openai.Client {
	c := openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(s.BaseURL), option.WithAPIKey(abuseKey), option.WithMaxRetries(0),
	}, opts...)...)
	return &c
}

var built struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// siloBinary builds silo once per test run, without the race detector even
// when the tests have it, so that the memory it is measured by is its own.
func siloBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "silo-abuse-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "silo")
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", built.path, ".")
		built.out, built.err = cmd.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("building silo: %v\n%s", built.err, built.out)
	}
	return built.path
}

// status returns a field of /proc/PID/status in bytes (VmRSS, VmHWM).
func (s *abuseServer) status(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, s.pid)
	return 0
}

// fds returns how many connections and blob files the server has open: the
// descriptors a client can make it hold (its database's come and go with
// its connection pool).
func (s *abuseServer) fds(t *testing.T) int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", s.pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if strings.HasPrefix(target, "socket:") || strings.Contains(target, string(filepath.Separator)+"blobs"+string(filepath.Separator)) && !strings.HasSuffix(target, "LOCK") {
			n++
		}
	}
	return n
}

// cpu returns the server's CPU time so far.
func (s *abuseServer) cpu(t *testing.T) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// waitFDs waits until the server holds at most want descriptors (plus a few
// of its own that come and go) and returns how long that took.
func (s *abuseServer) waitFDs(t *testing.T, want int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		n := s.fds(t)
		if n <= want {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Errorf("the server still holds %d descriptors after %v, want about %d", n, within, want)
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkRSS fails the test if the server's peak RSS went over the budget.
func (s *abuseServer) checkRSS(t *testing.T, what string) {
	t.Helper()
	hwm := s.status(t, "VmHWM")
	t.Logf("%s: peak RSS %.1f MB, now %.1f MB", what, float64(hwm)/1e6, float64(s.status(t, "VmRSS"))/1e6)
	if hwm > rssBudget {
		t.Errorf("%s: peak RSS %d MB, over the budget of %d MB", what, hwm>>20, rssBudget>>20)
	}
}

// raiseFDLimit lets the test open thousands of connections.
func raiseFDLimit(t *testing.T, n uint64) {
	t.Helper()
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	if l.Cur >= n {
		return
	}
	if l.Max < n {
		t.Skipf("the descriptor limit is %d, the test needs %d", l.Max, n)
	}
	l.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Skipf("raising the descriptor limit: %v", err)
	}
}

// dial opens n raw connections to the server and sends head on each.
func (s *abuseServer) dial(t *testing.T, n int, head string) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
		if head != "" {
			if _, err := io.WriteString(c, head); err != nil {
				t.Fatal(err)
			}
		}
	}
	return conns
}

// awaitClosed reads each connection until the server closes it, and returns
// the status line each got (or "") and the longest wait.
func awaitClosed(t *testing.T, conns []net.Conn, within time.Duration) ([]string, time.Duration) {
	t.Helper()
	start := time.Now()
	lines := make([]string, len(conns))
	var mu sync.Mutex
	var longest time.Duration
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(start.Add(within))
			br := bufio.NewReader(c)
			line, _ := br.ReadString('\n')
			_, err := io.Copy(io.Discard, br)
			d := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			lines[i] = strings.TrimSpace(line)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("connection %d still open after %v (got %q)", i, within, lines[i])
			}
			longest = max(longest, d)
		}()
	}
	wg.Wait()
	return lines, longest
}

func countPrefix(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// newUpload creates a pending Upload of n bytes.
func (s *abuseServer) newUpload(t *testing.T, n int64) string {
	t.Helper()
	u, err := s.sdk().Uploads.New(context.Background(), openai.UploadNewParams{
		Bytes: n, Filename: "a.bin", MimeType: "application/octet-stream", Purpose: openai.FilePurposeUserData,
	})
	fatalIf(t, err)
	return u.ID
}

// blobs returns the names of the blob files in the server's data dir.
func (s *abuseServer) blobs(t *testing.T) []string {
	t.Helper()
	var names []string
	filepath.WalkDir(filepath.Join(s.data, "blobs"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(path, string(filepath.Separator)+"tmp"+string(filepath.Separator)) {
			names = append(names, path)
		}
		return nil
	})
	return names
}

// Row 1: no key, complete headers with chunked encoding, then no body.
func TestAbuse_NoKeyChunkedNoBody(t *testing.T) {
	raiseFDLimit(t, 4096)
	s := startAbuse(t)
	base := s.fds(t)
	head := "POST /v1/uploads/upload_x/parts HTTP/1.1\r\nHost: silo\r\nTransfer-Encoding: chunked\r\n" +
		"Content-Type: multipart/form-data; boundary=x\r\n\r\n"
	conns := s.dial(t, 500, head)
	lines, longest := awaitClosed(t, conns, closeWithin)
	if n := countPrefix(lines, "HTTP/1.1 401"); n != len(conns) {
		t.Errorf("%d of %d connections got 401 (first: %q)", n, len(conns), lines[0])
	}
	t.Logf("500 connections without a key: all answered and closed within %v", longest)
	s.waitFDs(t, base, closeWithin)
	s.checkRSS(t, "500 keyless chunked requests")
}

// partHead is the head of a part request with a body of n bytes (0: chunked).
func partHead(uploadID, key string, n int64, extra string) string {
	te := "Transfer-Encoding: chunked\r\n"
	if n > 0 {
		te = fmt.Sprintf("Content-Length: %d\r\n", n)
	}
	return fmt.Sprintf("POST /v1/uploads/%s/parts HTTP/1.1\r\nHost: silo\r\nAuthorization: Bearer %s\r\n%s"+
		"Content-Type: multipart/form-data; boundary=BOUNDARY\r\n%s\r\n", uploadID, key, te, extra)
}

// Row 2: part uploads that send 1.3 MB of body, then stall.
func TestAbuse_StalledParts(t *testing.T) {
	raiseFDLimit(t, 4096)
	s := startAbuse(t)
	id := s.newUpload(t, 64<<20)
	base := s.fds(t)
	body := "--BOUNDARY\r\nContent-Disposition: form-data; name=\"data\"; filename=\"b\"\r\n\r\n" +
		strings.Repeat("x", 1300<<10)
	const n = 500
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	var wg sync.WaitGroup
	for range n {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetWriteDeadline(time.Now().Add(closeWithin))
			io.WriteString(c, partHead(id, abuseKey, 64<<20, "")+body) // never finished
		}()
	}
	lines, longest := awaitClosed(t, conns, closeWithin+10*time.Second)
	wg.Wait()
	t.Logf("%d stalled parts: %d answered 408, %d answered 503, all closed within %v",
		n, countPrefix(lines, "HTTP/1.1 408"), countPrefix(lines, "HTTP/1.1 503"), longest)
	s.waitFDs(t, base, closeWithin)
	s.checkRSS(t, "500 stalled parts")
	if b := s.blobs(t); len(b) != 0 {
		t.Errorf("stalled parts left %d blobs: %v", len(b), b[:min(3, len(b))])
	}
}

// Row 3: a part whose Content-Disposition carries a 9 MB filename, then stall.
func TestAbuse_HugePartHeader(t *testing.T) {
	s := startAbuse(t)
	id := s.newUpload(t, 10)
	base := s.fds(t)
	name := strings.Repeat("n", 9<<20)
	body := "--BOUNDARY\r\nContent-Disposition: form-data; name=\"data\"; filename=\"" + name + "\"\r\n\r\n0123456789"
	const n = 40
	conns := s.dial(t, n, "")
	type result struct {
		lines   []string
		longest time.Duration
	}
	res := make(chan result, 1)
	go func() { // reading from the start, as a client that reads while it sends
		lines, longest := awaitClosed(t, conns, closeWithin)
		res <- result{lines, longest}
	}()
	for _, c := range conns {
		go func() {
			c.SetWriteDeadline(time.Now().Add(closeWithin))
			io.WriteString(c, partHead(id, abuseKey, 0, "")+fmt.Sprintf("%x\r\n%s\r\n", len(body), body)) // then stall
		}()
	}
	r := <-res
	// The server answers and closes while the client is still sending: a
	// client busy sending may see the connection reset before it reads the
	// answer, which is the fate of a 9 MB header (on a loaded machine, maybe
	// of all 40); but no other answer.
	answered := countPrefix(r.lines, "HTTP/1.1 400")
	if countPrefix(r.lines, "HTTP/") != answered {
		t.Errorf("%d of %d got 400, want all that got an answer (%q)", answered, n, r.lines)
	}
	// A client that sends 128 KiB of such a name and then waits reads its 400.
	polite := s.dial(t, 1, "")
	polite[0].SetWriteDeadline(time.Now().Add(closeWithin))
	head := "--BOUNDARY\r\nContent-Disposition: form-data; name=\"data\"; filename=\"" + name[:128<<10]
	io.WriteString(polite[0], partHead(id, abuseKey, 0, "")+fmt.Sprintf("%x\r\n%s\r\n", len(head), head))
	if lines, _ := awaitClosed(t, polite, closeWithin); countPrefix(lines, "HTTP/1.1 400") != 1 {
		t.Errorf("a part whose field header passes 64 KiB: got %q, want 400", lines)
	}
	t.Logf("%d parts with 9 MB field headers: %d read their 400 before the reset; all closed within %v", n, answered, r.longest)
	s.waitFDs(t, base, closeWithin)
	s.checkRSS(t, "40 parts with 9 MB field headers")
}

// multipartFile is a POST /files body with the file's name and bytes.
func multipartFile(name string, data []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("purpose", "user_data")
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	w, _ := mw.CreatePart(h)
	w.Write(data)
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func (s *abuseServer) post(t *testing.T, path, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.BaseURL+path, body)
	req.Header.Set("Authorization", "Bearer "+abuseKey)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// Row 4: POST /files with 9 MB filenames, then a list; and a list of 10,000
// Files with the longest names allowed.
func TestAbuse_LongFilenamesAndBigLists(t *testing.T) {
	// The stall limit of the other abuse tests is 1 s; a loaded machine may
	// leave three 10 MB lists unread that long, which is not what this tests.
	s := startAbuse(t, "--stall-timeout", "1m")
	body, ct := multipartFile(strings.Repeat("n", 9<<20), []byte("x"))
	resp, b := s.post(t, "/files", ct, body)
	if resp.StatusCode != 400 {
		t.Errorf("POST /files with a 9 MB filename: got %d %s, want 400", resp.StatusCode, b)
	}
	body, ct = multipartFile(strings.Repeat("n", 2000), []byte("x"))
	resp, b = s.post(t, "/files", ct, body)
	wantEnvelope(t, resp, b, 400, "invalid_value", "file")

	// 10,000 Files whose names are 1,024 bytes, made by 8 clients.
	const files, clients = 10000, 8
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < files; i += clients {
				name := fmt.Sprintf("%05d-%s.jsonl", i, strings.Repeat("é", (1024-12)/2))
				body, ct := multipartFile(name, []byte("{}\n"))
				req, _ := http.NewRequest("POST", s.BaseURL+"/files", body)
				req.Header.Set("Authorization", "Bearer "+abuseKey)
				req.Header.Set("Content-Type", ct)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("file %d: status %d", i, resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Three lists of every File at once.
	var lwg sync.WaitGroup
	for range 3 {
		lwg.Add(1)
		go func() {
			defer lwg.Done()
			req, _ := http.NewRequest("GET", s.BaseURL+"/files?limit=10000", nil)
			req.Header.Set("Authorization", "Bearer "+abuseKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var l struct {
				Data    []json.RawMessage `json:"data"`
				HasMore bool              `json:"has_more"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
				t.Error(err)
				return
			}
			if len(l.Data) != files || l.HasMore {
				t.Errorf("list: got %d files, has_more %v; want %d, false", len(l.Data), l.HasMore, files)
			}
		}()
	}
	lwg.Wait()
	s.checkRSS(t, "three lists of 10,000 Files with 1,024-byte names")
}

// wantEnvelope checks an error answer: status, JSON envelope, x-request-id.
func wantEnvelope(t *testing.T, resp *http.Response, body []byte, status int, code, param string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status: got %d, want %d (%s)", resp.StatusCode, status, body)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("no x-request-id")
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	var e struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Errorf("body %.200q: %v", body, err)
		return
	}
	gotCode, gotParam := "", ""
	if e.Error.Code != nil {
		gotCode = *e.Error.Code
	}
	if e.Error.Param != nil {
		gotParam = *e.Error.Param
	}
	if gotCode != code || gotParam != param {
		t.Errorf("code, param: got %q, %q, want %q, %q (%s)", gotCode, gotParam, code, param, e.Error.Message)
	}
	if len(e.Error.Message) > 1000 {
		t.Errorf("message is %d bytes long, want a short one", len(e.Error.Message))
	}
}

// Row 6: downloads whose clients never read.
func TestAbuse_DownloadsNeverRead(t *testing.T) {
	raiseFDLimit(t, 4096)
	s := startAbuse(t)
	data := pseudoRandom(32<<20, 6)
	f, err := s.sdk().Files.New(context.Background(), openai.FileNewParams{
		File: openai.File(bytes.NewReader(data), "big.bin", "application/octet-stream"), Purpose: openai.FilePurposeUserData,
	})
	fatalIf(t, err)
	base := s.fds(t)
	const n = 200
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.(*net.TCPConn).SetReadBuffer(4 << 10)
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /v1/files/%s/content HTTP/1.1\r\nHost: silo\r\nAuthorization: Bearer %s\r\n\r\n", f.ID, abuseKey)
	}
	// Nobody reads: the server must give up on every one of them by itself.
	took := s.waitFDs(t, base, closeWithin+20*time.Second)
	t.Logf("%d downloads never read: the server closed them all within %v", n, took)
	s.checkRSS(t, "200 unread downloads")
}

// Row 7: a long URL path without a key.
func TestAbuse_LongPath(t *testing.T) {
	s := startAbuse(t)
	// Over the header limit: net/http's own 431.
	resp, err := http.Get(s.BaseURL + "/files/" + strings.Repeat("a", 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 431 {
		t.Errorf("a 1 MB path: got %d, want 431", resp.StatusCode)
	}
	// Under it: our answers, and our log, cut the path short.
	long := strings.Repeat("p", 60<<10)
	for _, key := range []string{"", abuseKey} {
		req, _ := http.NewRequest("GET", s.BaseURL+"/files/"+long, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if key == "" {
			wantEnvelope(t, resp, b, 401, "invalid_api_key", "")
		} else {
			wantEnvelope(t, resp, b, 404, "", "file_id")
		}
	}
	time.Sleep(200 * time.Millisecond) // the log line follows the answer
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		if len(line) > 2000 {
			t.Errorf("a log line of %d bytes: %.200s…", len(line), line)
		}
	}
}

// Row 8: clients that hang up right after sending a whole part.
func TestAbuse_HangUpAfterPart(t *testing.T) {
	s := startAbuse(t, "--reap-interval", "100ms", "--garbage-grace", "0s")
	id := s.newUpload(t, 64<<20)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("data", "b")
	w.Write(pseudoRandom(1<<20, 8))
	mw.Close()
	for range 20 {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST /v1/uploads/%s/parts HTTP/1.1\r\nHost: silo\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\nContent-Type: %s\r\n\r\n",
			id, abuseKey, body.Len(), mw.FormDataContentType())
		c.Write(body.Bytes())
		c.(*net.TCPConn).SetLinger(0)
		c.Close() // without waiting for the answer
	}
	// Every part the server recorded goes with the cancelled Upload; what it
	// did not record must not stay behind either.
	time.Sleep(500 * time.Millisecond)
	_, err := s.sdk().Uploads.Cancel(context.Background(), id)
	fatalIf(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for len(s.blobs(t)) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if b := s.blobs(t); len(b) != 0 {
		t.Errorf("%d blobs left behind by clients that hung up: %v", len(b), b[:min(3, len(b))])
	}
}

// Row 10: a long filename, then a download: the header stays small.
func TestAbuse_ContentDispositionBounded(t *testing.T) {
	s := startAbuse(t)
	name := strings.Repeat("日", (1024-6)/3) + ".jsonl"
	body, ct := multipartFile(name, []byte("{}\n"))
	resp, b := s.post(t, "/files", ct, body)
	if resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	var f struct{ ID string }
	json.Unmarshal(b, &f)
	req, _ := http.NewRequest("GET", s.BaseURL+"/files/"+f.ID+"/content", nil)
	req.Header.Set("Authorization", "Bearer "+abuseKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cd := resp.Header.Get("Content-Disposition"); len(cd) > 4<<10 || !strings.Contains(cd, "filename*=UTF-8''") {
		t.Errorf("Content-Disposition of %d bytes: %.120q…; want under 4 KiB with the exact name in filename*", len(cd), cd)
	}
}

// Row 11: a part with two data fields.
func TestAbuse_TwoDataFields(t *testing.T) {
	s := startAbuse(t)
	id := s.newUpload(t, 10)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("data", "a")
	w.Write([]byte("01234"))
	w, _ = mw.CreateFormFile("data", "b")
	w.Write([]byte("56789"))
	mw.Close()
	resp, b := s.post(t, "/uploads/"+id+"/parts", mw.FormDataContentType(), &body)
	wantEnvelope(t, resp, b, 400, "invalid_value", "data")
	if bl := s.blobs(t); len(bl) != 0 {
		t.Errorf("a refused part left %d blobs", len(bl))
	}
}

// Row 12: Expect: 100-continue on a part for a cancelled Upload.
func TestAbuse_ExpectContinueRefused(t *testing.T) {
	s := startAbuse(t)
	id := s.newUpload(t, 10)
	_, err := s.sdk().Uploads.Cancel(context.Background(), id)
	fatalIf(t, err)
	conns := s.dial(t, 1, partHead(id, abuseKey, 30<<20, "Expect: 100-continue\r\n"))
	br := bufio.NewReader(conns[0])
	conns[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	wantEnvelope(t, resp, b, 400, "upload_cancelled", "")
	if !resp.Close {
		t.Errorf("the connection stays open for a body never sent; want Connection: close")
	}
	// A part for a pending Upload is told to go on.
	id = s.newUpload(t, 10)
	conns = s.dial(t, 1, partHead(id, abuseKey, 100, "Expect: 100-continue\r\n"))
	conns[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(conns[0]).ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Errorf("a part for a pending Upload: got %q, want 100 Continue", line)
	}
}

// Row 13: what net/http answers itself stays; everything else is ours.
func TestAbuse_EnvelopeEverywhere(t *testing.T) {
	s := startAbuse(t)
	for _, tt := range []struct {
		name, head string
		status     string
	}{
		{"headers over the limit", "GET /v1/files HTTP/1.1\r\nHost: silo\r\nX-Big: " + strings.Repeat("h", 1<<20) + "\r\n\r\n", "HTTP/1.1 431"},
		{"a bad escape", "GET /v1/files/%zz HTTP/1.1\r\nHost: silo\r\n\r\n", "HTTP/1.1 400"},
		{"a bad Content-Length", "POST /v1/files HTTP/1.1\r\nHost: silo\r\nContent-Length: x\r\n\r\n", "HTTP/1.1 400"},
	} {
		conns := s.dial(t, 1, tt.head)
		lines, _ := awaitClosed(t, conns, 5*time.Second)
		if !strings.HasPrefix(lines[0], tt.status) {
			t.Errorf("%s: got %q, want %s", tt.name, lines[0], tt.status)
		}
	}
	for _, tt := range []struct {
		method, path, key string
		status            int
		code, param       string
	}{
		{"GET", "/files", "", 401, "invalid_api_key", ""},
		{"GET", "/files", "sk-wrong", 401, "invalid_api_key", ""},
		{"PUT", "/files", abuseKey, 405, "", ""},
		{"GET", "/nothing", abuseKey, 404, "", ""},
		{"GET", "/files/file-x", abuseKey, 404, "", "file_id"},
		{"POST", "/uploads/upload_x/parts", abuseKey, 400, "invalid_value", ""},
	} {
		req, _ := http.NewRequest(tt.method, s.BaseURL+tt.path, nil)
		if tt.key != "" {
			req.Header.Set("Authorization", "Bearer "+tt.key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantEnvelope(t, resp, b, tt.status, tt.code, tt.param)
	}
}

// Idle connections cost little: 2,000 of them stay within the budget.
func TestAbuse_IdleConnections(t *testing.T) {
	raiseFDLimit(t, 8192)
	s := startAbuse(t)
	conns := s.dial(t, 2000, "")
	// One request on each, so that each has had a request's buffers.
	for _, c := range conns {
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: silo\r\n\r\n")
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	s.checkRSS(t, "2,000 idle connections")
}
