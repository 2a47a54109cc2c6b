package inmem

import (
	"context"
	"sync"
	"time"

	"github.com/silo-dev/silo"
)

// MetaStore is a silo.MetaStore in memory. One mutex guards everything, so
// every method is one compare-and-set. It hands out copies, never its own
// records.
type MetaStore struct {
	mu      sync.Mutex
	uploads map[string]*uploadRec
	files   map[string]*fileRec
	// order holds every File ever created, deleted ones too, in creation
	// order; a File's seq is its index, so a cursor finds its place at once.
	order   []*fileRec
	garbage map[string]*garbageRec
	// refs counts the references to each blob key from recorded parts and
	// live Files, for KnownBlobs.
	refs map[string]int
	// usage is what each project holds.
	usage map[string]silo.Usage
}

var _ silo.MetaStore = (*MetaStore)(nil)

// uploadRec is a stored Upload with its recorded parts.
type uploadRec struct {
	u      silo.Upload // File always nil; see fileID
	parts  map[string]*silo.Part
	fileID string
}

// fileRec is a stored File; a deleted one stays as a tombstone so that list
// cursors naming it keep their place.
type fileRec struct {
	f       silo.File
	seq     int
	deleted bool
}

// garbageRec is a queued blob: when it was queued and until when it is leased
// (Unix nanoseconds).
type garbageRec struct {
	queued, leaseUntil int64
}

// NewMetaStore returns an empty MetaStore.
func NewMetaStore() *MetaStore {
	return &MetaStore{
		uploads: make(map[string]*uploadRec),
		files:   make(map[string]*fileRec),
		garbage: make(map[string]*garbageRec),
		refs:    make(map[string]int),
		usage:   make(map[string]silo.Usage),
	}
}

// Close does nothing: there is nothing to release.
func (s *MetaStore) Close() error { return nil }

// copyUpload returns a copy of u sharing nothing with it.
func copyUpload(u *silo.Upload) *silo.Upload {
	c := *u
	c.PartIDs = append([]string(nil), u.PartIDs...)
	if u.File != nil {
		c.File = copyFile(u.File)
	}
	return &c
}

// copyFile returns a copy of f sharing nothing with it.
func copyFile(f *silo.File) *silo.File {
	c := *f
	c.Blobs = append([]silo.BlobRef(nil), f.Blobs...)
	return &c
}

// upload returns the Upload of the project, or ENOTFOUND. Requires mu.
func (s *MetaStore) upload(project, id string) (*uploadRec, error) {
	r, ok := s.uploads[id]
	if !ok || r.u.Project != project {
		return nil, silo.Errorf(silo.ENOTFOUND, "upload_id", "No upload found with id %q.", id)
	}
	return r, nil
}

// view returns a copy of the stored Upload with its File. Requires mu.
func (s *MetaStore) view(r *uploadRec) *silo.Upload {
	u := copyUpload(&r.u)
	if f, ok := s.files[r.fileID]; ok {
		u.File = copyFile(&f.f)
	}
	return u
}

// queue adds key to the garbage queue at now unless it is queued already.
// Requires mu.
func (s *MetaStore) queue(key string, now time.Time) {
	if _, ok := s.garbage[key]; !ok {
		s.garbage[key] = &garbageRec{queued: now.UnixNano()}
	}
}

// take adds d to the usage of project if it stays within q, or returns the
// error of q.Check. Requires mu.
func (s *MetaStore) take(project string, d silo.Usage, q silo.Quota) error {
	if err := q.Check(s.usage[project], d); err != nil {
		return err
	}
	s.usage[project] = s.usage[project].Add(d)
	return nil
}

// Usage implements silo.MetaStore.
func (s *MetaStore) Usage(ctx context.Context, project string) (silo.Usage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if project != "" {
		return s.usage[project], nil
	}
	var sum silo.Usage
	for _, u := range s.usage {
		sum = sum.Add(u)
	}
	return sum, nil
}

// partBytes returns the bytes of the recorded parts of r. Requires mu.
func partBytes(r *uploadRec) int64 {
	var n int64
	for _, p := range r.parts {
		n += p.Size
	}
	return n
}

// dropParts forgets the parts of r, queueing the blobs not in keep as garbage.
// Requires mu.
func (s *MetaStore) dropParts(r *uploadRec, keep map[string]bool, now time.Time) {
	for _, p := range r.parts {
		s.refs[p.BlobKey]--
		if s.refs[p.BlobKey] <= 0 {
			delete(s.refs, p.BlobKey)
		}
		if !keep[p.BlobKey] {
			s.queue(p.BlobKey, now)
		}
	}
	r.parts = nil
}

// ClaimGarbage implements silo.MetaStore.
func (s *MetaStore) ClaimGarbage(ctx context.Context, queuedBefore, now time.Time, lease time.Duration, n int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before, at := queuedBefore.UnixNano(), now.UnixNano()
	var keys []string
	for k, g := range s.garbage {
		if len(keys) >= n {
			break
		}
		if g.queued < before && g.leaseUntil <= at {
			g.leaseUntil = now.Add(lease).UnixNano()
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// ForgetGarbage implements silo.MetaStore.
func (s *MetaStore) ForgetGarbage(ctx context.Context, keys []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		delete(s.garbage, k)
	}
	return nil
}

// KnownBlobs implements silo.MetaStore.
func (s *MetaStore) KnownBlobs(ctx context.Context, keys []string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := make(map[string]bool)
	for _, k := range keys {
		if _, queued := s.garbage[k]; queued || s.refs[k] > 0 {
			known[k] = true
		}
	}
	return known, nil
}
