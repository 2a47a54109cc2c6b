package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// corsPage is a page of another origin that calls the server's /v1 from the
// browser, as a web app using openai-node would; base URL and key come in
// the fragment. Its result, JSON, goes into #result.
const corsPage = `<!doctype html><meta charset="utf-8"><title>cross-origin</title>
<pre id="result"></pre><script src="/cors.js"></script>`

const corsScript = `(async () => {
  const { base, key } = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  const out = document.getElementById('result');
  try {
    const res = await fetch(base + '/v1/files?limit=1', {
      headers: { Authorization: 'Bearer ' + key, 'X-Stainless-Lang': 'js', 'OpenAI-Project': 'p' },
    });
    const body = await res.json();
    out.textContent = JSON.stringify({ status: res.status, object: body.object, requestId: res.headers.get('x-request-id') });
  } catch (err) {
    out.textContent = JSON.stringify({ error: err.name, message: err.message });
  }
})();`

// TestConsoleBrowser runs the web console's browser tests
// (console/e2e/console.test.mjs) in headless Chromium against the real
// server. It needs node, Debian's chromium and `npm ci` in console/e2e;
// .ci/run provides all three. SILO_TEST_CONSOLE_MB sets the size of the
// large upload (default 200).
func TestConsoleBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the console's browser tests need it (.ci/run installs it)")
	}
	browser := os.Getenv("SILO_TEST_CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser"} {
		if browser == "" {
			browser, _ = exec.LookPath(name)
		}
	}
	if browser == "" {
		t.Skip("chromium is not installed (apt-get install chromium, or set SILO_TEST_CHROMIUM): the console's browser tests need it")
	}
	e2e, err := filepath.Abs("../../console/e2e")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "playwright-core")); err != nil {
		t.Skipf("playwright-core is not installed: run npm ci in %s", e2e)
	}

	// The other origin: a cross-origin page, and the server's request log
	// for the tests that count part requests.
	var srv *siloServer
	mux := http.NewServeMux()
	mux.HandleFunc("/cors.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, corsPage)
	})
	mux.HandleFunc("/cors.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, corsScript)
	})
	mux.HandleFunc("/log", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, srv.stderr.String())
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	other := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go other.Serve(ln)
	t.Cleanup(func() { other.Close() })
	otherOrigin := "http://" + ln.Addr().String()

	const key = "sk-console-test"
	const docsKey = "sk-console-docs" // a second project, for the README's pictures
	srv = startSilo(t, "", map[string]string{"SILO_API_KEYS": key + "=proj_console," + docsKey + "=proj_docs"}, "--cors-origins", otherOrigin)

	artifacts := os.Getenv("SILO_TEST_ARTIFACTS")
	if artifacts == "" {
		artifacts, err = os.MkdirTemp("", "silo-console-e2e-")
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots and test files in %s", artifacts)
	t.Cleanup(func() { os.RemoveAll(filepath.Join(artifacts, "files")) })
	bigMB := os.Getenv("SILO_TEST_CONSOLE_MB")
	if bigMB == "" {
		bigMB = "200"
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.test.mjs")
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(),
		"SILO_URL="+strings.TrimSuffix(srv.BaseURL, "/v1"),
		"SILO_KEY="+key,
		"SILO_DOCS_KEY="+docsKey,
		"OTHER_ORIGIN="+otherOrigin,
		"CHROMIUM="+browser,
		"ARTIFACTS="+artifacts,
		"BIG_MB="+bigMB,
	)
	// The checks' lines go to the test log as they come (with -v), and to
	// browser-tests.log among the screenshots.
	var out bytes.Buffer
	logFile, err := os.Create(filepath.Join(artifacts, "browser-tests.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	w := io.MultiWriter(&out, logFile, lineLogger{t})
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Run()
	if err != nil {
		t.Fatalf("browser tests failed: %v (screenshots in %s)", err, artifacts)
	}
	if !strings.Contains(out.String(), "all checks passed") {
		t.Fatal("browser tests did not report their checks")
	}
}

// lineLogger logs what is written to it with t.Log, a write at a time.
type lineLogger struct{ t *testing.T }

func (l lineLogger) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestConsoleFlags checks the wiring of --console and SILO_CORS_ORIGINS,
// without a browser.
func TestConsoleFlags(t *testing.T) {
	get := func(t *testing.T, req *http.Request) *http.Response {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	t.Run("on by default, CORS from the environment", func(t *testing.T) {
		const app = "http://127.0.0.1:3000"
		s := startSilo(t, "", map[string]string{"SILO_CORS_ORIGINS": app + ",https://other.example"})
		root := strings.TrimSuffix(s.BaseURL, "/v1")
		req, _ := http.NewRequest("GET", root+"/", nil)
		resp := get(t, req)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET /: got %d %q, want 200 text/html", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("Content-Security-Policy: got %q", csp)
		}
		req, _ = http.NewRequest("OPTIONS", s.BaseURL+"/files", nil)
		req.Header.Set("Origin", app)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		resp = get(t, req)
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != app {
			t.Errorf("preflight: got %d, Access-Control-Allow-Origin %q; want 204, %s", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), app)
		}
	})
	t.Run("--console=false", func(t *testing.T) {
		s := startSilo(t, "", nil, "--console=false")
		req, _ := http.NewRequest("GET", strings.TrimSuffix(s.BaseURL, "/v1")+"/", nil)
		resp := get(t, req)
		if resp.StatusCode != 401 || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET / with the console off: got %d %q, want 401 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		req, _ = http.NewRequest("OPTIONS", s.BaseURL+"/files", nil)
		req.Header.Set("Origin", "http://127.0.0.1:3000")
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp = get(t, req)
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("CORS header %s sent with no origin configured", k)
			}
		}
	})
}
