package inmem

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/silo-dev/silo"
)

// CreateUpload implements silo.MetaStore.
func (s *MetaStore) CreateUpload(ctx context.Context, u *silo.Upload, q silo.Quota) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.uploads[u.ID]; ok {
		return fmt.Errorf("inmem: upload %s exists already", u.ID)
	}
	if err := s.take(u.Project, silo.Usage{PendingUploads: 1}, q); err != nil {
		return err
	}
	c := copyUpload(u)
	c.File = nil
	s.uploads[u.ID] = &uploadRec{u: *c}
	return nil
}

// GetUpload implements silo.MetaStore.
func (s *MetaStore) GetUpload(ctx context.Context, project, id string) (*silo.Upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.upload(project, id)
	if err != nil {
		return nil, err
	}
	return s.view(r), nil
}

// AddPart implements silo.MetaStore.
func (s *MetaStore) AddPart(ctx context.Context, p *silo.Part, now time.Time, max silo.PartLimits, q silo.Quota) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.upload(p.Project, p.UploadID)
	if err != nil {
		return err
	}
	if err := r.u.CheckPending(now); err != nil {
		return err
	}
	total := p.Size
	for _, q := range r.parts {
		if q.ID == p.ID {
			return fmt.Errorf("inmem: part %s exists already", p.ID)
		}
		total += q.Size
	}
	if err := max.Check(r.u.ID, len(r.parts), total); err != nil {
		return err
	}
	if err := s.take(p.Project, silo.Usage{Bytes: p.Size}, q); err != nil {
		return err
	}
	if r.parts == nil {
		r.parts = make(map[string]*silo.Part)
	}
	c := *p
	r.parts[p.ID] = &c
	s.refs[p.BlobKey]++
	return nil
}

// ListParts implements silo.MetaStore.
func (s *MetaStore) ListParts(ctx context.Context, project, uploadID string) ([]*silo.Part, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.upload(project, uploadID)
	if err != nil {
		return nil, err
	}
	parts := make([]*silo.Part, 0, len(r.parts))
	for _, p := range r.parts {
		c := *p
		parts = append(parts, &c)
	}
	slices.SortFunc(parts, func(a, b *silo.Part) int {
		return cmp.Or(cmp.Compare(a.Started, b.Started), cmp.Compare(a.ID, b.ID))
	})
	return parts, nil
}

// CompleteUpload implements silo.MetaStore.
func (s *MetaStore) CompleteUpload(ctx context.Context, c *silo.Completion) (*silo.Upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.upload(c.Project, c.UploadID)
	if err != nil {
		return nil, err
	}
	if err := r.u.CheckPending(c.Now); err != nil {
		return s.view(r), err
	}
	if _, ok := s.files[c.File.ID]; ok {
		return nil, fmt.Errorf("inmem: file %s exists already", c.File.ID)
	}
	d := silo.Usage{Bytes: c.File.Bytes - partBytes(r), Files: 1, PendingUploads: -1}
	if err := s.take(c.Project, d, c.Quota); err != nil {
		return nil, err
	}
	keep := make(map[string]bool)
	for _, b := range c.File.Blobs {
		keep[b.Key] = true
	}
	s.dropParts(r, keep, c.Now)
	s.insertFile(c.File)
	r.u.Status = silo.StatusCompleted
	r.u.PartIDs = append([]string(nil), c.PartIDs...)
	r.u.MD5 = c.MD5
	r.fileID = c.File.ID
	return s.view(r), nil
}

// CancelUpload implements silo.MetaStore.
func (s *MetaStore) CancelUpload(ctx context.Context, project, id string, now time.Time) (*silo.Upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.upload(project, id)
	if err != nil {
		return nil, err
	}
	if err := r.u.CheckPending(now); err != nil {
		return s.view(r), err
	}
	s.usage[project] = s.usage[project].Add(silo.Usage{Bytes: -partBytes(r), PendingUploads: -1})
	s.dropParts(r, nil, now)
	r.u.Status = silo.StatusCancelled
	return s.view(r), nil
}

// ExpireUploads implements silo.MetaStore.
func (s *MetaStore) ExpireUploads(ctx context.Context, now time.Time, n int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	done := 0
	for _, r := range s.uploads {
		if done >= n {
			break
		}
		if r.u.StatusAt(now) == silo.StatusExpired && r.u.Status == silo.StatusPending {
			s.usage[r.u.Project] = s.usage[r.u.Project].Add(silo.Usage{Bytes: -partBytes(r), PendingUploads: -1})
			s.dropParts(r, nil, now)
			r.u.Status = silo.StatusExpired
			done++
		}
	}
	return done, nil
}
