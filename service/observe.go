package service

import (
	"context"
	"sync"
	"time"

	"github.com/silo-dev/silo"
)

// EventKind names something the service did, for an Observer.
type EventKind int

// The events a Service reports. Count and Bytes of an Event say how many and
// how large, where the kind's comment says so.
const (
	// UploadCreated: one Upload was created.
	UploadCreated EventKind = iota + 1
	// UploadCompleted: one Upload was completed; Bytes is its size. A File
	// was created with it (FileCreated follows).
	UploadCompleted
	// UploadCancelled: one Upload was cancelled.
	UploadCancelled
	// UploadsExpired: the reaper marked Count Uploads expired.
	UploadsExpired
	// FileCreated: one File was created (by POST /files or a completion);
	// Bytes is its size.
	FileCreated
	// FileDeleted: one File was deleted. Its size is not known here.
	FileDeleted
	// FilesExpired: the reaper deleted Count expired Files.
	FilesExpired
	// PartStarted: a part began arriving; PartDone follows when it ends.
	PartStarted
	// PartDone: a part stopped arriving, stored or not.
	PartDone
	// ReapRun: one round of the reaper ended; Err says whether it failed.
	ReapRun
	// SweepRun: one orphan sweep ended; Err says whether it failed.
	SweepRun
	// BlobsDeleted: the reaper (garbage) or a sweep (orphans) deleted Count
	// blobs; Source says which.
	BlobsDeleted
	// GarbageClaimed: the reaper took Count blobs off the garbage queue to
	// delete them.
	GarbageClaimed
	// MD5OnArrival: Bytes of a part were hashed inline, as they arrived.
	MD5OnArrival
	// MD5ReadBack: Bytes of a part that arrived before the md5 chain reached
	// it were read back from the blob store to hash them.
	MD5ReadBack
	// MD5OnComplete: a complete with md5 read Bytes again to hash them.
	MD5OnComplete
)

// Event is one thing the service did.
type Event struct {
	Kind  EventKind
	Count int64
	Bytes int64
	// Source is "reaper" or "sweep" for BlobsDeleted.
	Source string
	// Err is the error a ReapRun or SweepRun ended with.
	Err error
}

// Observer hears the service's events, for metrics. Observe is called
// synchronously from many goroutines: it must be quick and safe for
// concurrent use.
type Observer interface {
	Observe(Event)
}

// observe reports e to the configured Observer, if any.
func (s *Service) observe(e Event) {
	if s.cfg.Observer != nil {
		s.cfg.Observer.Observe(e)
	}
}

// Ping probes both stores at once (those that are silo.Pinger; the others
// count as up) and returns the ones that did not answer, by name ("metadata",
// "blobs"), with their errors; an empty map when both did. It is cheap enough
// for a readiness check every few seconds; ctx bounds its wait.
func (s *Service) Ping(ctx context.Context) map[string]error {
	stores := map[string]any{"metadata": s.meta, "blobs": s.blobs}
	var mu sync.Mutex
	down := make(map[string]error)
	var wg sync.WaitGroup
	for name, st := range stores {
		p, ok := st.(silo.Pinger)
		if !ok {
			continue
		}
		wg.Go(func() {
			if err := p.Ping(ctx); err != nil {
				mu.Lock()
				down[name] = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return down
}

// Reap does one round of cleanup: it marks expired Uploads, deletes expired
// Files, and deletes the blobs queued as garbage longer ago than GarbageGrace.
// Several processes may reap one store at once: the store's compare-and-set
// operations and garbage leases keep them from doing the same work twice.
func (s *Service) Reap(ctx context.Context) (ReapStats, error) {
	st, err := s.reap(ctx)
	if s.cfg.Observer != nil {
		for _, e := range []Event{
			{Kind: UploadsExpired, Count: int64(st.ExpiredUploads)},
			{Kind: FilesExpired, Count: int64(st.ExpiredFiles)},
			{Kind: GarbageClaimed, Count: int64(st.ClaimedBlobs)},
			{Kind: BlobsDeleted, Count: int64(st.DeletedBlobs), Source: "reaper"},
		} {
			if e.Count > 0 {
				s.observe(e)
			}
		}
		s.observe(Event{Kind: ReapRun, Count: 1, Err: err})
	}
	return st, err
}

// SweepOrphans deletes the blobs under the service's KeyPrefixes stored
// before storedBefore that the metadata store does not know: bytes written by
// a part or file whose record was never made (a crash between the two). It
// does nothing if the blob store cannot list. It returns how many blobs it
// deleted.
func (s *Service) SweepOrphans(ctx context.Context, storedBefore time.Time) (int, error) {
	n, err := s.sweepOrphans(ctx, storedBefore)
	if n > 0 {
		s.observe(Event{Kind: BlobsDeleted, Count: int64(n), Source: "sweep"})
	}
	s.observe(Event{Kind: SweepRun, Count: 1, Err: err})
	return n, err
}
