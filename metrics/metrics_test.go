package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/disk"
	shttp "github.com/silo-dev/silo/http"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/metrics"
	"github.com/silo-dev/silo/service"
	"github.com/silo-dev/silo/storetest"
)

// The wrapped stores pass the conformance suites: instrumentation changes
// no behaviour.
func TestMetaStore_Conformance(t *testing.T) {
	m := metrics.New(metrics.Options{})
	storetest.MetaStore(t, func(t *testing.T) silo.MetaStore { return m.MetaStore(inmem.NewMetaStore()) })
}

func TestBlobStore_Conformance(t *testing.T) {
	m := metrics.New(metrics.Options{})
	storetest.BlobStore(t, func(t *testing.T) silo.BlobStore { return m.BlobStore(inmem.NewBlobStore()) })
}

// exposition returns what GET /metrics serves, as a map from series to value.
func exposition(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// want fails the test unless each series has its value.
func want(t *testing.T, m *metrics.Metrics, values map[string]float64) {
	t.Helper()
	got := exposition(t, m)
	for series, v := range values {
		if g, ok := got[series]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", series, g, ok, v)
		}
	}
}

func TestNew_Collectors(t *testing.T) {
	m := metrics.New(metrics.Options{Build: metrics.Build{Version: "v1.2.3", Revision: "abc", GoVersion: "go1.99"}})
	got := exposition(t, m)
	if got[`silo_build_info{goversion="go1.99",revision="abc",version="v1.2.3"}`] != 1 {
		t.Errorf("no silo_build_info with the build's labels")
	}
	for _, name := range []string{"go_goroutines", "process_open_fds", `silo_refusals_total{reason="stall"}`, `silo_uploads_total{event="expired"}`} {
		if _, ok := got[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
}

func TestBlobStore_KeepsCapabilities(t *testing.T) {
	m := metrics.New(metrics.Options{})
	d, err := disk.Open(t.TempDir(), disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bs := m.BlobStore(d)
	if _, ok := bs.(silo.BlobLister); !ok {
		t.Error("the wrapped disk store is no BlobLister")
	}
	if p, ok := bs.(silo.Pinger); !ok || p.Ping(context.Background()) != nil {
		t.Error("the wrapped disk store does not Ping")
	}
	ctx := context.Background()
	if _, err := bs.Put(ctx, "parts/a", bytes.NewReader([]byte("hello"))); err != nil {
		t.Fatal(err)
	}
	rc, err := bs.Open(ctx, "parts/a", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, ok := rc.(io.WriterTo); !ok {
		t.Errorf("the reader of the wrapped disk store is %T, no io.WriterTo: downloads would lose sendfile", rc)
	}
	type plain struct{ silo.BlobStore }
	if _, ok := m.BlobStore(plain{inmem.NewBlobStore()}).(silo.BlobLister); ok {
		t.Error("a store without List became a BlobLister")
	}
	want(t, m, map[string]float64{
		`silo_store_operation_duration_seconds_count{op="put",store="blobs"}`:  1,
		`silo_store_operation_duration_seconds_count{op="open",store="blobs"}`: 1,
	})
}

// failingMeta fails CreateFile with err; the rest is inmem's.
type failingMeta struct {
	*inmem.MetaStore
	err error
}

func (f failingMeta) CreateFile(context.Context, *silo.File, silo.Quota) error { return f.err }

func TestMetaStore_Errors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		err  error
		code string // "" for not counted
	}{
		{"internal", errors.New("disk on fire"), "internal"},
		{"unavailable", silo.Errorf(silo.EUNAVAILABLE, "", "down"), silo.EUNAVAILABLE},
		{"caller gave up", context.Canceled, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := metrics.New(metrics.Options{})
			ms := m.MetaStore(failingMeta{inmem.NewMetaStore(), tc.err})
			if err := ms.CreateFile(ctx, &silo.File{ID: "file_a", Project: "p"}, silo.Quota{}); !errors.Is(err, tc.err) {
				t.Fatalf("CreateFile: %v, want %v", err, tc.err)
			}
			series := `silo_store_operation_errors_total{code="` + tc.code + `",op="create_file",store="metadata"}`
			got := exposition(t, m)
			if tc.code == "" {
				for s := range got {
					if strings.HasPrefix(s, "silo_store_operation_errors_total") {
						t.Errorf("a cancelled call counted as an error: %s", s)
					}
				}
				return
			}
			if got[series] != 1 {
				t.Errorf("%s = %v, want 1", series, got[series])
			}
		})
	}
}

// TestObserve runs a service over inmem with the metrics as its observer
// and checks that each event moved its counter.
func TestObserve(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	m := metrics.New(metrics.Options{Now: clock})
	svc := service.New(m.MetaStore(inmem.NewMetaStore()), m.BlobStore(inmem.NewBlobStore()),
		service.Config{Observer: m, Now: clock})
	ctx := silo.WithProject(context.Background(), "p")
	data := []byte("hello, world")

	u, err := svc.CreateUpload(ctx, &silo.UploadCreate{Bytes: int64(len(data)), Filename: "a.jsonl", Purpose: "batch", MimeType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.AddPart(ctx, u.ID, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CompleteUpload(ctx, u.ID, []string{p.ID}, "e4d7f1b4ed2e42d15898f4b27b019da4"); err != nil {
		t.Fatal(err)
	}
	v, err := svc.CreateUpload(ctx, &silo.UploadCreate{Bytes: 1, Filename: "b.jsonl", Purpose: "batch", MimeType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CancelUpload(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	f, err := svc.CreateFile(ctx, &silo.FileCreate{Data: bytes.NewReader([]byte("xyz")), Purpose: "batch", Filename: "f.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteFile(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUpload(ctx, &silo.UploadCreate{Bytes: 1, Filename: "c.jsonl", Purpose: "batch", MimeType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour) // the third upload expires; garbage is past its grace
	if _, err := svc.Reap(context.Background()); err != nil {
		t.Fatal(err)
	}
	want(t, m, map[string]float64{
		`silo_uploads_total{event="created"}`:        3,
		`silo_uploads_total{event="completed"}`:      1,
		`silo_uploads_total{event="cancelled"}`:      1,
		`silo_uploads_total{event="expired"}`:        1,
		`silo_files_total{event="created"}`:          2,
		`silo_files_total{event="deleted"}`:          1,
		`silo_files_created_bytes_total`:             float64(len(data) + 3),
		`silo_parts_in_flight`:                       0,
		`silo_reaper_runs_total{result="ok"}`:        1,
		`silo_garbage_claimed_total`:                 1, // the deleted File's blob
		`silo_blobs_deleted_total{source="reaper"}`:  1,
		`silo_reaper_last_success_timestamp_seconds`: float64(now.Unix()),
	})
	// Every byte was hashed once: as it arrived, read back by the chain, or
	// by the complete.
	got := exposition(t, m)
	if h := got[`silo_md5_hashed_bytes_total{when="arrival"}`] + got[`silo_md5_hashed_bytes_total{when="read_back"}`] + got[`silo_md5_hashed_bytes_total{when="complete"}`]; h != float64(len(data)) {
		t.Errorf("md5 hashed %v bytes, want %d", h, len(data))
	}
	if _, err := svc.SweepOrphans(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	want(t, m, map[string]float64{`silo_sweep_runs_total{result="ok"}`: 1})
}

func TestRefused(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.Refused(shttp.RefusedStall)
	m.Refused("made up")
	m.RequestStarted()
	m.RequestDone(shttp.RequestInfo{Route: "/v1/files", Method: "GET", Status: 499, BytesIn: 0, BytesOut: 10, Duration: time.Millisecond})
	want(t, m, map[string]float64{
		`silo_refusals_total{reason="stall"}`:                                 1,
		`silo_refusals_total{reason="other"}`:                                 1,
		`silo_http_requests_total{code="499",method="GET",route="/v1/files"}`: 1,
		`silo_http_sent_bytes_total{route="/v1/files"}`:                       10,
		`silo_http_requests_in_flight`:                                        0,
	})
}

func TestTrackStored(t *testing.T) {
	m := metrics.New(metrics.Options{})
	var reads atomic.Int64
	m.TrackStored(func(ctx context.Context) (silo.Usage, error) {
		n := reads.Add(1)
		if n == 2 {
			return silo.Usage{}, errors.New("database away")
		}
		return silo.Usage{Files: 10 * n, Bytes: 1000 * n, PendingUploads: n}, nil
	}, metrics.StoredOptions{Every: time.Millisecond})
	defer m.Close()
	var got map[string]float64
	for range 200 {
		got = exposition(t, m)
		if got["silo_stored_read_errors_total"] == 1 && got["silo_stored_files"] >= 30 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	f, b, p := got["silo_stored_files"], got["silo_stored_bytes"], got["silo_pending_uploads"]
	if got["silo_stored_read_errors_total"] != 1 || f < 30 || b != 100*f || p != f/10 {
		t.Errorf("after reads: %v files, %v bytes, %v pending, %v errors; want the last read's totals and 1 error",
			f, b, p, got["silo_stored_read_errors_total"])
	}
	if err := m.Close(); err != nil { // waits for the reading goroutine
		t.Fatal(err)
	}
}

func TestUsageTotals(t *testing.T) {
	meta := inmem.NewMetaStore()
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	for i, f := range []struct {
		project string
		bytes   int64
	}{{"a", 1}, {"a", 2}, {"b", 4}} {
		err := meta.CreateFile(ctx, &silo.File{ID: "file_" + strconv.Itoa(i), Project: f.project, Bytes: f.bytes, CreatedAt: now.Unix(), Filename: "f.jsonl", Purpose: "batch",
			Blobs: []silo.BlobRef{{Key: "files/" + strconv.Itoa(i), Size: f.bytes}}}, silo.Quota{})
		if err != nil {
			t.Fatal(err)
		}
	}
	u, err := metrics.UsageTotals(meta)(ctx)
	if err != nil || u.Files != 3 || u.Bytes != 7 {
		t.Errorf("UsageTotals = %+v, %v; want 3 files, 7 bytes", u, err)
	}
}
