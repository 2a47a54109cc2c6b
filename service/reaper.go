package service

import (
	"context"
	"errors"
	"time"

	"github.com/silo-dev/silo"
)

// batch is how many records one store call of the reaper handles.
const batch = 100

// ReapStats says what one round of the reaper did.
type ReapStats struct {
	ExpiredUploads int
	ExpiredFiles   int
	DeletedBlobs   int
	ClaimedBlobs   int // taken off the garbage queue, deleted or not
}

// reap does one round of cleanup: it marks expired Uploads, deletes expired
// Files, and deletes the blobs queued as garbage longer ago than GarbageGrace.
// It works on a full volume too: its writes may drop the ballast (freeing).
// Several processes may reap one store at once: the store's compare-and-set
// operations and garbage leases keep them from doing the same work twice.
func (s *Service) reap(ctx context.Context) (ReapStats, error) {
	var st ReapStats
	now := s.now()
	s.md5.prune(now.Unix())
	s.sums.prune(now.Unix())
	for {
		var n int
		err := s.freeing(func() (err error) {
			n, err = s.meta.ExpireUploads(ctx, now, batch)
			return err
		})
		st.ExpiredUploads += n
		if err != nil || n < batch {
			if err != nil {
				return st, err
			}
			break
		}
	}
	for {
		var n int
		err := s.freeing(func() (err error) {
			n, err = s.meta.ExpireFiles(ctx, now, batch)
			return err
		})
		st.ExpiredFiles += n
		if err != nil {
			return st, err
		}
		if n < batch {
			break
		}
	}
	for {
		// Garbage queued at the cutoff itself is due too (+1ns), so that a
		// round deletes what its own expiry steps queued when there's no grace.
		cutoff := now.Add(-s.cfg.GarbageGrace + time.Nanosecond)
		var keys []string
		err := s.freeing(func() (err error) {
			keys, err = s.meta.ClaimGarbage(ctx, cutoff, now, s.cfg.GarbageLease, batch)
			return err
		})
		if err != nil {
			return st, err
		}
		st.ClaimedBlobs += len(keys)
		done := keys[:0]
		var errs []error
		for _, k := range keys {
			if err := s.blobs.Delete(ctx, k); err != nil {
				errs = append(errs, err) // stays queued; retried after the lease
				continue
			}
			done = append(done, k)
		}
		if len(done) > 0 {
			if err := s.freeing(func() error { return s.meta.ForgetGarbage(ctx, done) }); err != nil {
				return st, err
			}
		}
		st.DeletedBlobs += len(done)
		if len(errs) > 0 {
			return st, errors.Join(errs...)
		}
		if len(keys) < batch {
			return st, nil
		}
	}
}

// sweepOrphans deletes the blobs under the service's KeyPrefixes stored before
// storedBefore that the metadata store does not know: bytes written by a part or file whose record was never
// made (a crash between the two). It does nothing if the blob store cannot
// list. It returns how many blobs it deleted.
func (s *Service) sweepOrphans(ctx context.Context, storedBefore time.Time) (int, error) {
	lister, ok := s.blobs.(silo.BlobLister)
	if !ok {
		return 0, nil
	}
	var deleted int
	var keys []string
	flush := func() error {
		known, err := s.meta.KnownBlobs(ctx, keys)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if !known[k] {
				if err := s.blobs.Delete(ctx, k); err != nil {
					return err
				}
				deleted++
			}
		}
		keys = keys[:0]
		return nil
	}
	err := lister.List(ctx, func(key string, stored time.Time) error {
		if !stored.Before(storedBefore) || !ownKey(key) {
			return nil // too young to judge, or not ours
		}
		keys = append(keys, key)
		if len(keys) == batch {
			return flush()
		}
		return nil
	})
	if err == nil && len(keys) > 0 {
		err = flush()
	}
	return deleted, err
}
