package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/silo-dev/silo"
)

// Defaults of the background schedule (Config).
const (
	// DefaultReapInterval is how often Run reaps.
	DefaultReapInterval = 10 * time.Second
	// DefaultSweepInterval is how often Run sweeps for orphaned bytes.
	DefaultSweepInterval = time.Hour
	// DefaultOrphanGrace is how old an unknown blob must be before a periodic
	// sweep deletes it: this or another instance may be writing the bytes of
	// a part right now, and makes its record only once they are all stored.
	// An S3 object made by a multipart upload dates from the upload's start,
	// so this also bounds how long one part may take to arrive.
	DefaultOrphanGrace = time.Hour
)

// lifetime is what a Service's own background work runs under: the md5
// hashing of arriving parts. Close ends it and waits for it.
type lifetime struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func newLifetime() *lifetime {
	ctx, cancel := context.WithCancel(context.Background())
	return &lifetime{ctx: ctx, cancel: cancel}
}

// goBackground runs f in a goroutine that Close waits for, unless the Service
// is closed; it reports whether f was started.
func (l *lifetime) goBackground(f func(ctx context.Context)) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		f(l.ctx)
	}()
	return true
}

// Close stops the Service's background work and waits for it to end; nothing
// it started touches a store after Close returns. Requests still being served
// may go on (they end with their own contexts); call Close once the server has
// stopped taking them, and before the stores close.
func (s *Service) Close() error {
	s.life.mu.Lock()
	s.life.closed = true
	s.life.mu.Unlock()
	s.life.cancel()
	s.life.wg.Wait()
	return nil
}

// Run does the cleanup of the stores until ctx ends, and returns then: the
// reaper every Config.ReapInterval, and the orphan sweep (with the abort of
// multipart uploads that dead processes left, where the blob store can) every
// Config.SweepInterval. Over stores of its own (not Config.SharedStores),
// orphans of any age are swept at once, before Run returns to its caller's
// next step... so call SweepAtStart first; the periodic sweep then waits an
// interval. Over shared stores the first periodic sweep runs at once.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.every(ctx, s.cfg.ReapInterval, false, s.reapRound) })
	wg.Go(func() { s.every(ctx, s.cfg.SweepInterval, s.cfg.SharedStores, s.sweepRound) })
	wg.Wait()
}

// every runs round every interval until ctx ends; at once first if now.
func (s *Service) every(ctx context.Context, interval time.Duration, now bool, round func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	if now {
		round(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		round(ctx)
	}
}

func (s *Service) reapRound(ctx context.Context) {
	st, err := s.Reap(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Error("reaper", "err", err)
	}
	if st != (ReapStats{}) {
		s.log.Info("reaped", "expired_uploads", st.ExpiredUploads, "expired_files", st.ExpiredFiles, "deleted_blobs", st.DeletedBlobs)
	}
}

func (s *Service) sweepRound(ctx context.Context) {
	before := s.now().Add(-s.cfg.OrphanGrace)
	n, err := s.SweepOrphans(ctx, before)
	if err != nil && ctx.Err() == nil {
		s.log.Error("orphan sweep", "err", err)
	}
	if n > 0 {
		s.log.Info("removed orphaned blobs", "count", n)
	}
	if a, ok := s.blobs.(silo.UnfinishedAborter); ok {
		n, err := a.AbortUnfinished(ctx, KeyPrefixes(), before)
		if err != nil && ctx.Err() == nil {
			s.log.Error("aborting unfinished uploads", "err", err)
		}
		if n > 0 {
			s.log.Info("aborted unfinished multipart uploads", "count", n)
		}
	}
}

// SweepAtStart removes the bytes whose record was never made (a crash between
// the two), whatever their age, when this process is the stores' only user
// (not Config.SharedStores): call it before serving. Shared stores are swept
// by Run, with the grace that writes of other instances need.
func (s *Service) SweepAtStart(ctx context.Context) error {
	if s.cfg.SharedStores {
		return nil
	}
	n, err := s.SweepOrphans(ctx, s.now())
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Info("removed orphaned blobs", "count", n)
	}
	return nil
}

// discardLogger is the Logger of a Config without one.
var discardLogger = slog.New(slog.DiscardHandler)
