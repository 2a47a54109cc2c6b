package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/internal/version"
	"github.com/silo-dev/silo/metrics"
)

// newLogger returns the server's one logger: format text or json, at level
// debug, info, warn or error.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level %q: expected debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: expected text or json", format)}
}

// logStarted logs the start-up banner: what runs, where, on what, under
// which limits. No credential appears: store URLs lose their user info and
// query.
func logStarted(log *slog.Logger, c serveConfig, url string, keys, projects int) {
	v := version.Get()
	log.Info("silo started",
		slog.String("version", v.Version),
		slog.String("revision", v.Revision),
		slog.String("url", url),
		slog.String("metadata", redactStore(c.db, "sqlite:"+c.data+"/silo.db")),
		slog.String("blobs", redactStore(c.blobs, "file:"+c.data+"/blobs")),
		slog.Int("keys", keys),
		slog.Int("projects", projects),
		slog.Bool("metrics", c.metrics),
		slog.Group("limits",
			slog.Int64("part_bytes", silo.MaxPartBytes),
			slog.Int("upload_parts", silo.MaxUploadParts),
			slog.Int64("upload_bytes", silo.MaxUploadBytes),
			slog.Int64("file_bytes", silo.MaxFileBytes),
			slog.Duration("upload_ttl", c.uploadTTL),
			slog.Duration("garbage_grace", c.garbageGrace),
			slog.Duration("shutdown_wait", c.shutdownWait),
			slog.Duration("drain_delay", c.drainDelay),
			slog.Duration("stall_timeout", c.stallTimeout),
			slog.Int("parallel_parts", c.maxParts),
			slog.Int64("min_free_space", c.minFreeSpace),
			slog.Int64("quota_bytes", c.quota.Bytes),
			slog.Int64("quota_files", c.quota.Files),
			slog.Int64("quota_pending_uploads", c.quota.PendingUploads),
		),
	)
}

// buildInfo is what silo_build_info says of this build.
func buildInfo() metrics.Build {
	v := version.Get()
	rev := v.Revision
	if v.Modified && rev != "" {
		rev += "+modified"
	}
	return metrics.Build{Version: v.Version, Revision: rev, GoVersion: v.GoVersion}
}

// redactStore returns a store URL (or def when it is empty) without user
// info, password or query parameters other than an S3 endpoint's host.
func redactStore(raw, def string) string {
	if raw == "" {
		return def
	}
	if strings.HasPrefix(raw, "sqlite:") || strings.HasPrefix(raw, "file:") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	out := u.Scheme + "://" + u.Host + u.Path
	if ep := u.Query().Get("endpoint"); ep != "" {
		if e, err := url.Parse(ep); err == nil {
			out += " at " + e.Scheme + "://" + e.Host
		}
	}
	return out
}

// inFlight counts the requests being served, so that a shutdown can keep
// taking requests while some are in flight (see drain).
type inFlight struct{ n atomic.Int64 }

func (f *inFlight) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.n.Add(1)
		defer f.n.Add(-1)
		h.ServeHTTP(w, r)
	})
}

// drain waits, once /readyz has turned 503, until no request is in flight
// or max has passed, whichever comes first: meanwhile the server still takes
// requests, so that a load balancer that has not yet seen the 503 loses
// none; an idle server stops at once.
func (f *inFlight) drain(max time.Duration) {
	deadline := time.Now().Add(max)
	for f.n.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}
