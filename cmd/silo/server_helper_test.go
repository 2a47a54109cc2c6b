package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/silo-dev/silo/internal/pseudo"
)

// startServer runs `silo serve` for the CLI tests (see startSilo) and
// returns its base URL.
func startServer(t *testing.T) string {
	t.Helper()
	return startSilo(t, "", nil).BaseURL
}

// cliResult is what one run of the command line gave.
type cliResult struct {
	stdout, stderr string
	code           int
}

// cli runs client commands against one server, with a cache dir of its own.
type cli struct {
	t       *testing.T
	baseURL string
	cache   string
}

func newCLI(t *testing.T, baseURL string) *cli {
	return &cli{t: t, baseURL: baseURL, cache: t.TempDir()}
}

func (c *cli) run(args ...string) cliResult {
	c.t.Helper()
	return c.runCtx(context.Background(), args...)
}

func (c *cli) runCtx(ctx context.Context, args ...string) cliResult {
	c.t.Helper()
	env := map[string]string{"OPENAI_BASE_URL": c.baseURL, "OPENAI_API_KEY": "sk-test", "SILO_CACHE_DIR": c.cache}
	var stdout, stderr bytes.Buffer
	err := run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: exitCode(err)}
}

// mustRun runs the command and fails the test unless it exits with 0.
func (c *cli) mustRun(args ...string) cliResult {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("silo %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// partProxy stands between the CLI and the server and records the bytes of
// every part sent through it. hook, when set, sees each part request first,
// numbered from 1 in order of arrival, and may answer it itself (returning true).
type partProxy struct {
	URL string

	mu    sync.Mutex
	sent  []string // sha256 of each part's bytes forwarded, in order
	count int      // part requests seen
	hook  func(n int, w http.ResponseWriter, r *http.Request) bool
}

func newPartProxy(t *testing.T, baseURL string) *partProxy {
	t.Helper()
	target, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(&url.URL{Scheme: target.Scheme, Host: target.Host})
	}}
	p := &partProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/parts") {
			rp.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.count++
		n, hook := p.count, p.hook
		p.mu.Unlock()
		if hook != nil && hook(n, w, r) {
			return
		}
		p.mu.Lock()
		p.sent = append(p.sent, partDigest(t, r.Header.Get("Content-Type"), body))
		p.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL + target.Path
	return p
}

// forwarded returns the digests of the parts forwarded so far and forgets them.
func (p *partProxy) forwarded() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sent
	p.sent, p.count = nil, 0
	return s
}

// partDigest returns the sha256 of the data field of a multipart part body.
func partDigest(t *testing.T, contentType string, body []byte) string {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Errorf("part content type %q: %v", contentType, err)
		return ""
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		f, err := mr.NextPart()
		if err != nil {
			t.Errorf("part body has no data field: %v", err)
			return ""
		}
		if f.FormName() == "data" {
			b, _ := io.ReadAll(f)
			return digest(b)
		}
	}
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// partDigests returns the digest of each part of data cut in parts of size.
func partDigests(data []byte, size int) map[string]int {
	m := map[string]int{}
	for i := 0; i*size < len(data); i++ {
		m[digest(data[i*size:min((i+1)*size, len(data))])] = i
	}
	return m
}

// testData returns n bytes that differ from part to part.
func testData(n int, seed uint64) []byte { return pseudo.Bytes(n, seed) }
