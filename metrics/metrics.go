// Package metrics exposes what Silo does in the Prometheus text format: it
// implements the observers of the http and service packages, and wraps the
// stores to time their operations. cmd/silo wires it; nothing else imports
// Prometheus. docs/METRICS.md lists every metric.
package metrics

import (
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options tunes Metrics. The zero value gives the defaults.
type Options struct {
	// Build is what silo_build_info says (cmd/silo gives internal/version's).
	Build Build
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Metrics is the registry of Silo's metrics and the observer that moves
// them. Its methods are safe for concurrent use. Close stops what
// TrackStored started.
type Metrics struct {
	reg *prometheus.Registry
	now func() time.Time

	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	bytesIn    *prometheus.CounterVec
	bytesOut   *prometheus.CounterVec
	inFlight   prometheus.Gauge
	refusals   *prometheus.CounterVec
	uploads    *prometheus.CounterVec
	files      *prometheus.CounterVec
	fileBytes  prometheus.Counter
	parts      prometheus.Gauge
	reaps      *prometheus.CounterVec
	sweeps     *prometheus.CounterVec
	lastReap   prometheus.Gauge
	deleted    *prometheus.CounterVec
	claimed    prometheus.Counter
	md5        *prometheus.CounterVec
	storeTime  *prometheus.HistogramVec
	storeErrs  *prometheus.CounterVec
	stored     *stored
	storedStop sync.Once
}

// New returns Metrics with every metric registered, including the Go
// runtime and process collectors and silo_build_info.
func New(opts Options) *Metrics {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := opts.Build
	if b.Version == "" {
		b.Version = "(devel)"
	}
	if b.GoVersion == "" {
		b.GoVersion = runtime.Version()
	}
	reg := prometheus.NewRegistry()
	f := factory{reg}
	m := &Metrics{reg: reg, now: opts.Now}

	m.requests = f.counterVec("silo_http_requests_total",
		"HTTP requests answered, by route pattern, method and status code (499: the client hung up).",
		"route", "method", "code")
	m.latency = f.histogramVec("silo_http_request_duration_seconds",
		"Time from a request's arrival to the end of its answer, by route pattern and method.",
		[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}, "route", "method")
	m.bytesIn = f.counterVec("silo_http_received_bytes_total", "Request body bytes read, by route pattern.", "route")
	m.bytesOut = f.counterVec("silo_http_sent_bytes_total", "Response body bytes written, by route pattern.", "route")
	m.inFlight = f.gauge("silo_http_requests_in_flight", "HTTP requests being served.")
	m.refusals = f.counterVec("silo_refusals_total",
		"Requests refused, by reason: auth, quota, free_space, stall, too_large.", "reason")
	for _, r := range []string{"auth", "quota", "free_space", "stall", "too_large"} {
		m.refusals.WithLabelValues(r)
	}

	m.uploads = f.counterVec("silo_uploads_total", "Uploads by event: created, completed, cancelled, expired.", "event")
	for _, e := range []string{"created", "completed", "cancelled", "expired"} {
		m.uploads.WithLabelValues(e)
	}
	m.files = f.counterVec("silo_files_total", "Files by event: created, deleted, expired.", "event")
	for _, e := range []string{"created", "deleted", "expired"} {
		m.files.WithLabelValues(e)
	}
	m.fileBytes = f.counter("silo_files_created_bytes_total", "Bytes of the Files created (by POST /files or a completion).")
	m.parts = f.gauge("silo_parts_in_flight", "Parts being received and stored.")
	m.reaps = f.counterVec("silo_reaper_runs_total", "Rounds of the reaper, by result: ok, error.", "result")
	m.sweeps = f.counterVec("silo_sweep_runs_total", "Orphan sweeps, by result: ok, error.", "result")
	for _, r := range []string{"ok", "error"} {
		m.reaps.WithLabelValues(r)
		m.sweeps.WithLabelValues(r)
	}
	m.lastReap = f.gauge("silo_reaper_last_success_timestamp_seconds", "Unix time the last reaper round ended without error.")
	m.deleted = f.counterVec("silo_blobs_deleted_total",
		"Blobs deleted, by source: reaper (garbage past its grace), sweep (orphans).", "source")
	for _, s := range []string{"reaper", "sweep"} {
		m.deleted.WithLabelValues(s)
	}
	m.claimed = f.counter("silo_garbage_claimed_total",
		"Blobs the reaper took off the garbage queue to delete; those whose delete failed are claimed again later.")
	m.md5 = f.counterVec("silo_md5_hashed_bytes_total",
		"Bytes hashed for md5, by when: arrival (inline, as parts arrive), read_back (parts that arrived before the md5 chain reached them, read back from the blob store), complete (read again by a complete with md5).", "when")
	for _, w := range []string{"arrival", "read_back", "complete"} {
		m.md5.WithLabelValues(w)
	}
	m.storeTime = f.histogramVec("silo_store_operation_duration_seconds",
		"Time of store operations, by store (metadata, blobs) and operation.",
		[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}, "store", "op")
	m.storeErrs = f.counterVec("silo_store_operation_errors_total",
		"Store operations that failed, by store, operation and silo error code (internal for any other).",
		"store", "op", "code")
	m.stored = newStored(f)

	bi := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "silo_build_info",
		Help:        "Always 1; the labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion},
	})
	bi.Set(1)
	reg.MustRegister(bi,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format (or OpenMetrics
// when asked), for GET /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// A scrape takes no more than this many at once; the rest get 503.
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

// Registry returns the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Close stops the goroutine TrackStored started, and waits for it.
func (m *Metrics) Close() error {
	m.stored.stop()
	return nil
}

// Build says which build of Silo runs, for silo_build_info.
type Build struct {
	Version   string // the module version; "" is "(devel)"
	Revision  string // the VCS revision; "" if unknown
	GoVersion string // "" is runtime.Version()
}

// factory makes metrics registered in one registry.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}
