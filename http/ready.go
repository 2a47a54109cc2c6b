package http

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Timings of /readyz.
const (
	// readyCache is how long a probe's answer is reused, so that many
	// balancers polling often cost the stores one probe per period.
	readyCache = 2 * time.Second
	// readyTimeout bounds one probe: a store slower than this is not ready.
	readyTimeout = 2 * time.Second
)

// readyJSON is the body of /readyz.
type readyJSON struct {
	Status string `json:"status"`
	// Failing names what is not ready: "metadata", "blobs" (the stores that
	// did not answer their probe), or "server" (shutting down).
	Failing []string `json:"failing,omitempty"`
}

// readyz answers 200 while the stores answer their probe and the server is
// not stopping, else 503 naming what fails. The errors themselves go to the
// log, not to the unauthenticated caller: they may name hosts.
func (s *server) readyz() http.Handler {
	var (
		mu      sync.Mutex
		checked time.Time
		failing []string
	)
	probe := func() []string {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(checked) < readyCache {
			return failing
		}
		// Not the request's context: a caller that hangs up must not leave
		// a failure in the cache.
		ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
		down := s.ready(ctx)
		cancel()
		failing = failing[:0:0]
		for name, err := range down {
			failing = append(failing, name)
			s.log.Warn("not ready", "store", name, "err", err)
		}
		slices.Sort(failing)
		checked = time.Now()
		return failing
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-s.stopping:
			writeJSON(w, http.StatusServiceUnavailable, readyJSON{Status: "stopping", Failing: []string{"server"}})
			return
		default:
		}
		if f := probe(); len(f) > 0 {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusServiceUnavailable, readyJSON{Status: "unavailable", Failing: f})
			return
		}
		writeJSON(w, http.StatusOK, readyJSON{Status: "ok"})
	})
}

// opsRoutes adds the routes for operators, which take no key: /readyz, and
// /metrics when the Config has a Metrics handler.
func (s *server) opsRoutes(root *http.ServeMux) {
	ready := s.readyz()
	root.Handle("/readyz", s.methods(map[string]http.Handler{
		"GET":  ready,
		"HEAD": ready,
	}))
	if s.metrics != nil {
		root.Handle("/metrics", s.methods(map[string]http.Handler{
			"GET": s.metrics,
		}))
	}
}
