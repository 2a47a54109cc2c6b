package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/silo-dev/silo"
)

// recObserver records what an Observer hears.
type recObserver struct {
	mu       sync.Mutex
	started  int
	done     []RequestInfo
	refusals []string
}

func (o *recObserver) RequestStarted() { o.mu.Lock(); o.started++; o.mu.Unlock() }
func (o *recObserver) RequestDone(i RequestInfo) {
	o.mu.Lock()
	o.done = append(o.done, i)
	o.mu.Unlock()
}
func (o *recObserver) Refused(r string) {
	o.mu.Lock()
	o.refusals = append(o.refusals, r)
	o.mu.Unlock()
}

// opsHandler returns a handler with obs, ready and stopping, logging JSON
// at debug into the returned buffer.
func opsHandler(t *testing.T, files *fakeFiles, obs Observer, ready func(context.Context) map[string]error, stopping chan struct{}) (http.Handler, *syncBuffer) {
	t.Helper()
	if files == nil {
		files = &fakeFiles{}
	}
	logs := &syncBuffer{}
	h := NewHandler(Config{
		Uploads: &fakeUploads{}, Files: files,
		Auth:     NewKeyring(map[string]string{testKey: testProject}),
		Logger:   slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Observer: obs, Ready: ready, Stopping: stopping,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("metrics\n")) }),
	})
	return h, logs
}

// lines parses a JSON log.
func lines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestObserver_Requests(t *testing.T) {
	files := &fakeFiles{get: func(ctx context.Context, id string) (*silo.File, error) {
		return nil, silo.Errorf(silo.ENOTFOUND, "", "No such file.")
	}}
	obs := &recObserver{}
	h, _ := opsHandler(t, files, obs, nil, nil)
	tests := []struct {
		method, path, key string
		route, wantMethod string
		status            int
		refusal           string
	}{
		{"GET", "/v1/files/file-abc", testKey, "/v1/files/{file_id}", "GET", 404, ""},
		{"BREW", "/v1/files/file-abc", testKey, "/v1/files/{file_id}", "OTHER", 405, ""},
		{"GET", "/v1/files", "", "/v1/files", "GET", 401, RefusedAuth},
		{"GET", "/v1/nothing/at/all", testKey, "/", "GET", 404, ""},
		{"GET", "/healthz", "", "/healthz", "GET", 200, ""},
		{"GET", "/metrics", "", "/metrics", "GET", 200, ""},
		{"GET", "/readyz", "", "/readyz", "GET", 200, ""},
	}
	for _, tc := range tests {
		obs.done, obs.refusals = nil, nil
		req := httptest.NewRequest(tc.method, tc.path, nil)
		if tc.key != "" {
			req.Header.Set("Authorization", "Bearer "+tc.key)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if len(obs.done) != 1 {
			t.Fatalf("%s %s: %d RequestDone, want 1", tc.method, tc.path, len(obs.done))
		}
		got := obs.done[0]
		if got.Route != tc.route || got.Method != tc.wantMethod || got.Status != tc.status || got.Status != rec.Code || got.BytesOut != int64(rec.Body.Len()) {
			t.Errorf("%s %s: observed %+v, want route %s method %s status %d, %d bytes out", tc.method, tc.path, got, tc.route, tc.wantMethod, tc.status, rec.Body.Len())
		}
		if want := tc.refusal; (want == "" && len(obs.refusals) != 0) || (want != "" && (len(obs.refusals) != 1 || obs.refusals[0] != want)) {
			t.Errorf("%s %s: refusals %v, want %q", tc.method, tc.path, obs.refusals, want)
		}
	}
	if obs.started != len(tests) {
		t.Errorf("RequestStarted %d times, want %d", obs.started, len(tests))
	}
}

func TestRefusalReason(t *testing.T) {
	for code, want := range map[string]string{
		silo.EUNAUTHORIZED: RefusedAuth, silo.ESTORAGEFULL: RefusedFreeSpace,
		silo.EPARTTOOLARGE: RefusedTooLarge, silo.EFILETOOLARGE: RefusedTooLarge, silo.EUPLOADTOOLARGE: RefusedTooLarge,
		silo.EQUOTA: RefusedQuota, codeStalled: RefusedStall,
		silo.ENOTFOUND: "", silo.EINTERNAL: "", silo.EUNAVAILABLE: "",
	} {
		if got := refusalReason(code); got != want {
			t.Errorf("refusalReason(%s) = %q, want %q", code, got, want)
		}
	}
}

func TestLogging_RequestLine(t *testing.T) {
	files := &fakeFiles{get: func(ctx context.Context, id string) (*silo.File, error) {
		switch id {
		case "file-fire":
			return nil, errors.New("disk on fire")
		case "file-down":
			return nil, silo.Errorf(silo.EUNAVAILABLE, "", "The metadata store is unavailable.")
		}
		return &silo.File{ID: id, Filename: "f", Purpose: "batch"}, nil
	}}
	for _, tc := range []struct {
		id, level, cause string
		status           int
	}{
		{"file-ok", "INFO", "", 200},
		{"file-fire", "ERROR", "disk on fire", 500},
		{"file-down", "ERROR", "silo: service_unavailable: The metadata store is unavailable.", 503},
	} {
		t.Run(tc.id, func(t *testing.T) {
			h, logs := opsHandler(t, files, nil, nil, nil)
			rec := serve(t, h, "GET", "/v1/files/"+tc.id, nil, "User-Agent", strings.Repeat("é", 500))
			ls := lines(t, logs.String())
			if len(ls) != 1 {
				t.Fatalf("%d log lines, want 1 (the request line carries the cause):\n%s", len(ls), logs)
			}
			l := ls[0]
			for k, want := range map[string]any{
				"msg": "request", "level": tc.level, "request_id": rec.Header().Get("X-Request-Id"),
				"method": "GET", "route": "/v1/files/{file_id}", "path": "/v1/files/" + tc.id,
				"status": float64(tc.status), "project": testProject, "bytes_in": float64(0),
				"bytes_out": float64(rec.Body.Len()),
			} {
				if l[k] != want {
					t.Errorf("%s = %v, want %v", k, l[k], want)
				}
			}
			if cause, _ := l["err"].(string); cause != tc.cause {
				t.Errorf("err = %q, want %q", cause, tc.cause)
			}
			if ua, _ := l["user_agent"].(string); len(ua) > silo.MaxEchoBytes+10 || !strings.HasPrefix(ua, "é") {
				t.Errorf("user_agent logged with %d bytes, want at most about %d", len(ua), silo.MaxEchoBytes)
			}
			for _, k := range []string{"duration", "client"} {
				if _, ok := l[k]; !ok {
					t.Errorf("no %s", k)
				}
			}
		})
	}
}

func TestLogging_ClientGone(t *testing.T) {
	obs := &recObserver{}
	files := &fakeFiles{get: func(ctx context.Context, id string) (*silo.File, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	h, logs := opsHandler(t, files, obs, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest("GET", "/v1/files/file-x", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+testKey)
	cancel()
	h.ServeHTTP(httptest.NewRecorder(), req)
	l := lines(t, logs.String())
	if len(l) != 1 || l[0]["status"] != float64(StatusClientClosed) || l[0]["level"] != "INFO" {
		t.Errorf("log of a client gone: %v, want one line with status 499 at INFO", l)
	}
	if len(obs.done) != 1 || obs.done[0].Status != StatusClientClosed {
		t.Errorf("observed %+v, want status 499", obs.done)
	}

	// A refusal stays one even if the client is gone by then.
	obs.done = nil
	req = httptest.NewRequest("GET", "/v1/files/file-x", nil).WithContext(ctx)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if len(obs.done) != 1 || obs.done[0].Status != 401 || len(obs.refusals) != 1 || obs.refusals[0] != RefusedAuth {
		t.Errorf("a refused request of a client gone: observed %+v, refusals %v; want 401 and an auth refusal", obs.done, obs.refusals)
	}
}

func TestLogging_ProbesAtDebug(t *testing.T) {
	h, logs := opsHandler(t, nil, nil, nil, nil)
	serve(t, h, "GET", "/healthz", nil)
	if l := lines(t, logs.String()); len(l) != 1 || l[0]["level"] != "DEBUG" {
		t.Errorf("a /healthz line: %v, want one at DEBUG", l)
	}
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…(cut)"},
		{"aé", 2, "a…(cut)"}, // never half a rune
	} {
		if got := cut(tc.in, tc.n); got != tc.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestReadyz(t *testing.T) {
	var probes atomic.Int64
	var down atomic.Bool
	ready := func(ctx context.Context) map[string]error {
		probes.Add(1)
		if down.Load() {
			return map[string]error{"blobs": errors.New("connection refused to 10.0.0.1")}
		}
		return nil
	}
	stopping := make(chan struct{})
	h, logs := opsHandler(t, nil, nil, ready, stopping)
	get := func() (int, readyJSON) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		var body readyJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("/readyz body %s: %v", rec.Body, err)
		}
		return rec.Code, body
	}
	if code, body := get(); code != 200 || body.Status != "ok" {
		t.Errorf("/readyz = %d %+v, want 200 ok", code, body)
	}
	get()
	if n := probes.Load(); n != 1 {
		t.Errorf("%d probes for two quick asks, want 1 (cached)", n)
	}

	down.Store(true)
	h, logs = opsHandler(t, nil, nil, ready, stopping) // a fresh cache
	code, body := get()
	if code != 503 || len(body.Failing) != 1 || body.Failing[0] != "blobs" {
		t.Errorf("/readyz with the blob store down = %d %+v, want 503 failing [blobs]", code, body)
	}
	if strings.Contains(strings.Join(body.Failing, ""), "10.0.0.1") {
		t.Error("the body names a host")
	}
	if !strings.Contains(logs.String(), "connection refused to 10.0.0.1") {
		t.Errorf("the probe's error is not logged:\n%s", logs)
	}

	down.Store(false)
	close(stopping)
	if code, body := get(); code != 503 || len(body.Failing) != 1 || body.Failing[0] != "server" {
		t.Errorf("/readyz while stopping = %d %+v, want 503 failing [server]", code, body)
	}
}

func TestMetricsRoute_Off(t *testing.T) {
	h := NewHandler(Config{Uploads: &fakeUploads{}, Files: &fakeFiles{}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 401 {
		t.Errorf("GET /metrics without a Metrics handler: %d, want 401 (an API path like any other)", rec.Code)
	}
}
