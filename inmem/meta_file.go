package inmem

import (
	"context"
	"fmt"
	"time"

	"github.com/silo-dev/silo"
)

// insertFile stores a copy of f after every File so far. Requires mu.
func (s *MetaStore) insertFile(f *silo.File) {
	r := &fileRec{f: *copyFile(f), seq: len(s.order)}
	s.files[f.ID] = r
	s.order = append(s.order, r)
	for _, b := range f.Blobs {
		s.refs[b.Key]++
	}
}

// deleteFile makes r a tombstone and queues its blobs as garbage. Requires mu.
func (s *MetaStore) deleteFile(r *fileRec, now time.Time) {
	r.deleted = true
	s.usage[r.f.Project] = s.usage[r.f.Project].Add(silo.Usage{Bytes: -r.f.Bytes, Files: -1})
	for _, b := range r.f.Blobs {
		s.refs[b.Key]--
		if s.refs[b.Key] <= 0 {
			delete(s.refs, b.Key)
		}
		s.queue(b.Key, now)
	}
}

// live returns the File of the project that is neither deleted nor expired at
// now, or ENOTFOUND. Requires mu.
func (s *MetaStore) live(project, id string, now time.Time) (*fileRec, error) {
	r, ok := s.files[id]
	if !ok || r.f.Project != project || r.deleted || silo.Expired(r.f.ExpiresAt, now) {
		return nil, silo.Errorf(silo.ENOTFOUND, "file_id", "No file found with id %q.", id)
	}
	return r, nil
}

// CreateFile implements silo.MetaStore.
func (s *MetaStore) CreateFile(ctx context.Context, f *silo.File, q silo.Quota) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.files[f.ID]; ok {
		return fmt.Errorf("inmem: file %s exists already", f.ID)
	}
	if err := s.take(f.Project, silo.Usage{Bytes: f.Bytes, Files: 1}, q); err != nil {
		return err
	}
	s.insertFile(f)
	return nil
}

// GetFile implements silo.MetaStore.
func (s *MetaStore) GetFile(ctx context.Context, project, id string, now time.Time) (*silo.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.live(project, id, now)
	if err != nil {
		return nil, err
	}
	return copyFile(&r.f), nil
}

// ListFiles implements silo.MetaStore. It walks the files in creation order
// from the cursor, which costs time with every file of every project; fine
// for a store that lives in memory. Listed Files carry no Blobs.
func (s *MetaStore) ListFiles(ctx context.Context, project string, q silo.FileQuery, now time.Time) (*silo.FileList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := q.Limit
	if limit <= 0 || limit > silo.MaxListLimit {
		limit = silo.MaxListLimit
	}
	step, i := 1, 0
	if q.Order != "asc" {
		step, i = -1, len(s.order)-1
	}
	if q.After != "" {
		r, ok := s.files[q.After]
		if !ok || r.f.Project != project {
			return nil, silo.Errorf(silo.EINVALID, "after",
				"Invalid value for 'after': %q is not a file of this project. Expected the id of the last file of the previous page.", q.After)
		}
		i = r.seq + step
	}
	list := &silo.FileList{Files: []*silo.File{}}
	for ; i >= 0 && i < len(s.order); i += step {
		r := s.order[i]
		if r.f.Project != project || r.deleted || silo.Expired(r.f.ExpiresAt, now) ||
			q.Purpose != "" && r.f.Purpose != q.Purpose {
			continue
		}
		if len(list.Files) == limit {
			list.HasMore = true
			break
		}
		f := r.f
		f.Blobs = nil // listed Files carry no blobs
		list.Files = append(list.Files, &f)
	}
	return list, nil
}

// DeleteFile implements silo.MetaStore.
func (s *MetaStore) DeleteFile(ctx context.Context, project, id string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.live(project, id, now)
	if err != nil {
		return err
	}
	s.deleteFile(r, now)
	return nil
}

// ExpireFiles implements silo.MetaStore.
func (s *MetaStore) ExpireFiles(ctx context.Context, now time.Time, n int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	done := 0
	for _, r := range s.order {
		if done >= n {
			break
		}
		if !r.deleted && silo.Expired(r.f.ExpiresAt, now) {
			s.deleteFile(r, now)
			done++
		}
	}
	return done, nil
}
