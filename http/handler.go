// Package http serves the OpenAI Uploads and Files API over silo's services, in
// the wire format the official SDKs expect, and implements the same services as
// a client of such a server. Callers import it as shttp.
package http

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/silo-dev/silo"
)

// Config is what NewHandler serves. Uploads and Files are required.
type Config struct {
	Uploads silo.UploadService
	Files   silo.FileService
	// Auth maps a bearer token to its project. Nil rejects every request, so a
	// forgotten setting fails closed; NewKeyring makes one from a key list.
	Auth func(token string) (project string, ok bool)
	// Logger gets one line per request and every internal error with its
	// request id. Nil discards.
	Logger *slog.Logger
	// Now is the clock for an Upload's status at response time. Nil: time.Now.
	Now func() time.Time
	// StallTimeout is how long a request body may send nothing, or a
	// response accept nothing, before the request is dropped and its
	// connection closed. Zero: DefaultStallTimeout.
	StallTimeout time.Duration
	// MaxParallelBodies is how many parts and files are received at once;
	// others wait briefly, then get 503. Zero: ParallelBodies(0).
	MaxParallelBodies int
	// Observer hears about every request, for metrics. Nil: nobody.
	Observer Observer
	// Metrics, if set, is served at GET /metrics without a key.
	Metrics http.Handler
	// Ready probes the stores for GET /readyz: it returns those that did not
	// answer, by name, with their errors. Nil: always ready.
	Ready func(ctx context.Context) map[string]error
	// Stopping, once closed, turns /readyz to 503 at once, so that a load
	// balancer drains the instance while it shuts down.
	Stopping <-chan struct{}
	// Console, when set, is served without a key at "/" and under
	// ConsolePrefix: the web console.
	Console http.Handler
	// ConsolePrefix is the path prefix of the console's assets, e.g. "/console/".
	ConsolePrefix string
	// CORSOrigins are the origins whose pages may call /v1 from a browser;
	// "*" is any origin. Empty: no CORS headers at all.
	CORSOrigins []string
}

// server holds a Config with its defaults filled in; its methods make the
// handlers of routes.go.
type server struct {
	uploads  silo.UploadService
	files    silo.FileService
	auth     func(string) (string, bool)
	log      *slog.Logger
	now      func() time.Time
	stall    time.Duration
	bodies   bodySlots
	obs      Observer
	metrics  http.Handler
	ready    func(context.Context) map[string]error
	stopping <-chan struct{}
	console  http.Handler
	conPfx   string
	cors     []string
}

// NewHandler returns the HTTP handler of the API: every route of routes.go
// under /v1, and without a key GET /healthz, GET /readyz and, with a Metrics
// handler, GET /metrics.
func NewHandler(cfg Config) http.Handler {
	s := &server{
		uploads:  cfg.Uploads,
		files:    cfg.Files,
		auth:     cfg.Auth,
		log:      cfg.Logger,
		now:      cfg.Now,
		stall:    cfg.StallTimeout,
		obs:      cfg.Observer,
		metrics:  cfg.Metrics,
		ready:    cfg.Ready,
		stopping: cfg.Stopping,
		console:  cfg.Console,
		conPfx:   cfg.ConsolePrefix,
		cors:     cfg.CORSOrigins,
	}
	if s.obs == nil {
		s.obs = nopObserver{}
	}
	if s.ready == nil {
		s.ready = func(context.Context) map[string]error { return nil }
	}
	if s.stall <= 0 {
		s.stall = DefaultStallTimeout
	}
	n := cfg.MaxParallelBodies
	if n <= 0 {
		n = ParallelBodies(0)
	}
	s.bodies = newBodySlots(n)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s.routes()
}

// fail answers with the envelope of err; idParam names the path's id for a
// not-found error.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error, idParam string) {
	writeError(w, r, s.log, err, idParam)
}
