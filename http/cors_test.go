package http

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func corsHandler(t *testing.T, origins ...string) http.Handler {
	t.Helper()
	return NewHandler(Config{
		Uploads: &fakeUploads{}, Files: &fakeFiles{},
		Auth:        NewKeyring(map[string]string{testKey: testProject}),
		CORSOrigins: origins,
	})
}

func TestCORS_Preflight(t *testing.T) {
	const app = "https://app.example.com"
	tests := []struct {
		name, origin, reqHeaders string
		origins                  []string
		wantStatus               int
		wantOrigin, wantHeaders  string
	}{
		{"listed origin", app, "Authorization, Content-Type, X-Stainless-OS, OpenAI-Organization, OpenAI-Project",
			[]string{app}, 204, app, "authorization, content-type, x-stainless-os, openai-organization, openai-project"},
		{"listed origin, trailing slash in the list", app, "authorization", []string{app + "/"}, 204, app, "authorization"},
		{"unknown header left out", app, "authorization, x-evil", []string{app}, 204, app, "authorization"},
		{"any origin", app, "authorization", []string{"*"}, 204, "*", "authorization"},
		{"origin not listed", "https://evil.example", "authorization", []string{app}, 401, "", ""},
		{"nothing configured", app, "authorization", nil, 401, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := corsHandler(t, tt.origins...)
			req := httptest.NewRequest("OPTIONS", "/v1/uploads/upload_x/parts", nil)
			req.Header.Set("Origin", tt.origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", tt.reqHeaders)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status: got %d, want %d", rec.Code, tt.wantStatus)
			}
			got := rec.Header()
			if v := got.Get("Access-Control-Allow-Origin"); v != tt.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin: got %q, want %q", v, tt.wantOrigin)
			}
			if v := got.Get("Access-Control-Allow-Headers"); v != tt.wantHeaders {
				t.Errorf("Access-Control-Allow-Headers: got %q, want %q", v, tt.wantHeaders)
			}
			if v := got.Get("Access-Control-Allow-Credentials"); v != "" {
				t.Errorf("Access-Control-Allow-Credentials: got %q, want none", v)
			}
			if tt.wantOrigin != "" {
				if v := got.Get("Access-Control-Allow-Methods"); v != "GET, POST, DELETE, HEAD" {
					t.Errorf("Access-Control-Allow-Methods: got %q", v)
				}
				if v := got.Get("X-Request-Id"); v == "" {
					t.Error("no x-request-id on the preflight answer")
				}
			}
			if tt.origins == nil {
				for k := range got {
					if strings.HasPrefix(k, "Access-Control-") || k == "Vary" {
						t.Errorf("header %s sent with no origin configured", k)
					}
				}
			}
		})
	}
}

func TestCORS_Request(t *testing.T) {
	const app = "http://127.0.0.1:3000"
	h := corsHandler(t, app)
	for _, tt := range []struct {
		name, origin, path, key string
		wantOrigin              string
	}{
		{"listed origin, error answer", app, "/v1/files/file-x", "", app},
		{"listed origin, no key", app, "/v1/files", "", app},
		{"other origin", "http://127.0.0.1:3001", "/v1/files", testKey, ""},
		{"not the API", app, "/healthz", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tt.path, nil)
			req.Header.Set("Origin", tt.origin)
			if tt.key != "" {
				req.Header.Set("Authorization", "Bearer "+tt.key)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if v := rec.Header().Get("Access-Control-Allow-Origin"); v != tt.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin: got %q, want %q", v, tt.wantOrigin)
			}
			if tt.wantOrigin != "" {
				if v := rec.Header().Get("Access-Control-Expose-Headers"); !containsToken(v, "x-request-id") {
					t.Errorf("Access-Control-Expose-Headers: got %q, want x-request-id among them", v)
				}
				if v := rec.Header().Get("Vary"); v != "Origin" {
					t.Errorf("Vary: got %q, want Origin", v)
				}
			}
		})
	}
}

func containsToken(list, tok string) bool {
	for _, p := range strings.Split(list, ",") {
		if strings.TrimSpace(p) == tok {
			return true
		}
	}
	return false
}

func TestHandler_Console(t *testing.T) {
	console := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("console " + r.URL.Path))
	})
	h := NewHandler(Config{
		Uploads: &fakeUploads{}, Files: &fakeFiles{},
		Auth:    NewKeyring(map[string]string{testKey: testProject}),
		Console: console, ConsolePrefix: "/console/",
	})
	for _, tt := range []struct {
		name, method, path, key string
		status                  int
		console                 bool
	}{
		{"page without key", "GET", "/", "", 200, true},
		{"asset without key", "GET", "/console/app.js", "", 200, true},
		{"HEAD of the page", "HEAD", "/", "", 200, true},
		{"POST to the page", "POST", "/", "", 405, false},
		{"API still needs a key", "GET", "/v1/files", "", 401, false},
		{"unknown API path", "GET", "/v1/nope", testKey, 404, false},
		{"unknown path without key", "GET", "/nope", "", 401, false},
		{"unknown path with key", "GET", "/nope", testKey, 404, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.key != "" {
				req.Header.Set("Authorization", "Bearer "+tt.key)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status: got %d, want %d (%s)", rec.Code, tt.status, rec.Body)
			}
			ct := rec.Header().Get("Content-Type")
			if tt.console && ct != "text/html" || !tt.console && ct != "application/json" {
				t.Errorf("Content-Type: got %q (console %v)", ct, tt.console)
			}
		})
	}

	off := NewHandler(Config{Uploads: &fakeUploads{}, Files: &fakeFiles{}, Auth: NewKeyring(map[string]string{testKey: testProject})})
	rec := httptest.NewRecorder()
	off.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 401 {
		t.Errorf("no console: GET / got %d, want 401", rec.Code)
	}
}
