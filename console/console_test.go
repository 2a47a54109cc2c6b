package console_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/silo-dev/silo/console"
)

func TestHandler(t *testing.T) {
	h := console.Handler()
	for _, tt := range []struct {
		path        string
		status      int
		contentType string
	}{
		{"/", 200, "text/html; charset=utf-8"},
		{console.Prefix + "app.js", 200, "text/javascript; charset=utf-8"},
		{console.Prefix + "style.css", 200, "text/css; charset=utf-8"},
		{console.Prefix + "md5-worker.js", 200, "text/javascript; charset=utf-8"},
		{console.Prefix + "vendor/hash-wasm/md5.umd.min.js", 200, "text/javascript; charset=utf-8"},
		{console.Prefix + "index.html", 404, ""},
		{console.Prefix + "vendor", 404, ""},
		{console.Prefix + "nope.js", 404, ""},
		{"/other", 404, ""},
	} {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status: got %d, want %d", rec.Code, tt.status)
			}
			hd := rec.Header()
			csp := hd.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self' 'wasm-unsafe-eval';", "connect-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "'unsafe-eval'") {
				t.Errorf("Content-Security-Policy %q allows inline or eval'd script", csp)
			}
			for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
				if got := hd.Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			if hd.Get("Set-Cookie") != "" {
				t.Error("the console set a cookie")
			}
			if tt.contentType != "" && hd.Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type: got %q, want %q", hd.Get("Content-Type"), tt.contentType)
			}
		})
	}
}

// TestPage_NoInlineScript keeps the page loadable under its own policy: no
// inline script, no inline style, no event-handler attributes.
func TestPage_NoInlineScript(t *testing.T) {
	rec := httptest.NewRecorder()
	console.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	page := rec.Body.String()
	for _, bad := range []string{"<script>", "<style", " style=", " onclick=", " onload=", "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
}
