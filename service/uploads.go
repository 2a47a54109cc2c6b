package service

import (
	"context"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/silo-dev/silo"
)

// CreateUpload creates a pending Upload that expires after the configured TTL.
func (s *Service) CreateUpload(ctx context.Context, req *silo.UploadCreate) (*silo.Upload, error) {
	proj, err := project(ctx)
	if err != nil {
		return nil, err
	}
	if err := silo.CheckUploadCreate(req); err != nil {
		return nil, err
	}
	now := s.now()
	u := &silo.Upload{
		ID:        s.cfg.NewID(silo.UploadIDPrefix),
		Project:   proj,
		Bytes:     req.Bytes,
		Filename:  req.Filename,
		Purpose:   req.Purpose,
		MimeType:  req.MimeType,
		CreatedAt: now.Unix(),
		ExpiresAt: now.Add(s.cfg.UploadTTL).Unix(),
		Status:    silo.StatusPending,
	}
	if s.cfg.UploadTTL%time.Second != 0 {
		// A TTL of a fraction of a second still expires at a whole second after
		// creation, never before it.
		u.ExpiresAt = u.CreatedAt + int64((s.cfg.UploadTTL+time.Second-1)/time.Second)
	}
	if req.ExpiresAfter != nil {
		u.FileExpiresAfter = req.ExpiresAfter.Seconds
	}
	if err := s.meta.CreateUpload(ctx, u, s.cfg.Quota); err != nil {
		return nil, err
	}
	s.observe(Event{Kind: UploadCreated, Count: 1})
	return u, nil
}

// AddPart streams data into a new blob and records it as a part of the Upload
// if the Upload is still pending once the bytes are durable.
func (s *Service) AddPart(ctx context.Context, uploadID string, data io.Reader) (*silo.Part, error) {
	proj, err := project(ctx)
	if err != nil {
		return nil, err
	}
	started := s.now()
	u, err := s.meta.GetUpload(ctx, proj, uploadID)
	if err != nil {
		return nil, notFound(err, "upload_id", "upload", uploadID)
	}
	if st := u.StatusAt(started); st != silo.StatusPending {
		return nil, silo.NotPendingError(u.ID, st)
	}
	// A part has at least one byte to count against the quota, in all
	// likelihood: refuse it before reading them if there is no room.
	if err := s.checkRoom(ctx, proj, silo.Usage{Bytes: 1}); err != nil {
		return nil, err
	}
	p := &silo.Part{
		ID:       s.cfg.NewID(silo.PartIDPrefix),
		UploadID: u.ID,
		Project:  proj,
		Started:  started.UnixNano(),
	}
	p.BlobKey = partKeys + p.ID
	s.observe(Event{Kind: PartStarted, Count: 1})
	defer s.observe(Event{Kind: PartDone, Count: 1})
	ih := s.md5.started(u, p)
	tooLarge := silo.Errorf(silo.EPARTTOOLARGE, "data", "A part takes at most %d bytes (64 MiB); this one is larger. Split the file into smaller parts.", silo.MaxPartBytes)
	n, err := s.blobs.Put(ctx, p.BlobKey, ih.reader(&limitReader{r: data, n: silo.MaxPartBytes, err: tooLarge}))
	if err != nil {
		s.md5.failed(s, u, p, ih)
		return nil, err
	}
	p.Size = n
	if err := ctx.Err(); err != nil {
		// The client left before the record was begun: nothing will ever name
		// these bytes, so they go now rather than at the next orphan sweep.
		s.md5.failed(s, u, p, ih)
		s.blobs.Delete(context.WithoutCancel(ctx), p.BlobKey)
		return nil, err
	}
	now := s.now()
	p.CreatedAt = now.Unix()
	max := silo.PartLimits{Bytes: u.Bytes + silo.MaxPartBytes, Count: silo.MaxUploadParts}
	cctx, cancel := commitContext(ctx)
	defer cancel()
	if err := s.meta.AddPart(cctx, p, now, max, s.cfg.Quota); err != nil {
		s.md5.failed(s, u, p, ih)
		if refused(err) {
			// Nothing references the blob: it is ours to remove, even if the
			// request was cancelled meanwhile.
			s.blobs.Delete(context.WithoutCancel(ctx), p.BlobKey)
		}
		return nil, notFound(err, "upload_id", "upload", uploadID)
	}
	s.md5.added(s, u, p, ih)
	return p, nil
}

// CompleteUpload turns the listed parts, in order, into the Upload's File. It
// copies no bytes: the File is the list of the parts' blobs.
func (s *Service) CompleteUpload(ctx context.Context, uploadID string, partIDs []string, md5 string) (*silo.Upload, error) {
	proj, err := project(ctx)
	if err != nil {
		return nil, err
	}
	if err := silo.CheckMD5(md5); err != nil {
		return nil, err
	}
	md5 = strings.ToLower(md5)
	u, err := s.meta.GetUpload(ctx, proj, uploadID)
	if err != nil {
		return nil, notFound(err, "upload_id", "upload", uploadID)
	}
	if done, settled, err := settledCompletion(u, partIDs, md5, s.now()); settled {
		return done, err
	}
	blobs, err := s.listedBlobs(ctx, u, partIDs)
	if err != nil {
		return s.raced(ctx, u, partIDs, md5, err)
	}
	if md5 != "" {
		got, err := s.digest(ctx, u, partIDs, blobs)
		if err != nil {
			return s.raced(ctx, u, partIDs, md5, err)
		}
		if got != md5 {
			return nil, silo.Errorf(silo.EMD5MISMATCH, "md5", "The md5 of the assembled bytes is %s, but the request gave %s; check the part order and the bytes sent.", got, md5)
		}
	}
	now := s.now()
	f := &silo.File{
		ID:        s.cfg.NewID(silo.FileIDPrefix),
		Project:   proj,
		Bytes:     u.Bytes,
		CreatedAt: now.Unix(),
		Filename:  u.Filename,
		Purpose:   u.Purpose,
		ExpiresAt: silo.FileExpiresAt(u.Purpose, now.Unix(), u.FileExpiresAfter),
		Blobs:     blobs,
	}
	done, err := s.meta.CompleteUpload(ctx, &silo.Completion{
		Project: proj, UploadID: u.ID, PartIDs: partIDs, MD5: md5, File: f, Now: now, Quota: s.cfg.Quota,
	})
	if err != nil {
		// Another identical complete may have won the race: that is success.
		if silo.ErrorCode(err) == silo.EUPLOADCOMPLETED && done != nil && sameCompletion(done, partIDs, md5) {
			return done, nil
		}
		return nil, notFound(err, "upload_id", "upload", uploadID)
	}
	s.md5.forget(u.ID)
	s.sums.forget(u.ID)
	s.observe(Event{Kind: UploadCompleted, Count: 1, Bytes: done.Bytes})
	s.observe(Event{Kind: FileCreated, Count: 1, Bytes: done.Bytes})
	return done, nil
}

// settledCompletion returns what a complete of u gets when u is no longer
// pending: u itself for a retry of the completion that made it, else the
// error of its status; settled is false while u is pending.
func settledCompletion(u *silo.Upload, partIDs []string, md5 string, now time.Time) (done *silo.Upload, settled bool, err error) {
	switch st := u.StatusAt(now); st {
	case silo.StatusPending:
		return nil, false, nil
	case silo.StatusCompleted:
		if sameCompletion(u, partIDs, md5) {
			return u, true, nil
		}
		return nil, true, silo.Errorf(silo.EUPLOADCOMPLETED, "", "Upload %s is already completed with another part list; it cannot be completed again differently.", u.ID)
	default:
		return nil, true, silo.NotPendingError(u.ID, st)
	}
}

// raced returns the answer to a complete that failed with err while checking
// the parts of u, read pending: if u has left pending meanwhile (another
// completion or a cancellation, perhaps through another instance, dropped its
// parts), the answer is the one for u's new status, not err. If u cannot be
// read again, err cannot be trusted either: the answer is the read's error.
func (s *Service) raced(ctx context.Context, u *silo.Upload, partIDs []string, md5 string, err error) (*silo.Upload, error) {
	again, gerr := s.meta.GetUpload(ctx, u.Project, u.ID)
	if gerr != nil {
		return nil, notFound(gerr, "upload_id", "upload", u.ID)
	}
	if done, settled, serr := settledCompletion(again, partIDs, md5, s.now()); settled {
		return done, serr
	}
	return nil, err
}

// sameCompletion reports whether a retried complete asks for what completed u:
// the same part ids, and the same md5 or none.
func sameCompletion(u *silo.Upload, partIDs []string, md5 string) bool {
	return slices.Equal(u.PartIDs, partIDs) && (md5 == "" || md5 == u.MD5)
}

// listedBlobs checks the part list against the Upload's recorded parts and
// returns their blobs in the listed order. The Upload stays pending on error.
func (s *Service) listedBlobs(ctx context.Context, u *silo.Upload, partIDs []string) ([]silo.BlobRef, error) {
	parts, err := s.meta.ListParts(ctx, u.Project, u.ID)
	if err != nil {
		return nil, notFound(err, "upload_id", "upload", u.ID)
	}
	byID := make(map[string]*silo.Part, len(parts))
	for _, p := range parts {
		byID[p.ID] = p
	}
	seen := make(map[string]bool, len(partIDs))
	blobs := make([]silo.BlobRef, 0, len(partIDs))
	var sum int64
	for _, id := range partIDs {
		if seen[id] {
			return nil, silo.Errorf(silo.EDUPLICATEPART, "part_ids", "Part %s is listed more than once; list each part once.", id)
		}
		seen[id] = true
		p, ok := byID[id]
		if !ok {
			return nil, silo.Errorf(silo.EPARTNOTFOUND, "part_ids", "Part %s is not a part of upload %s.", id, u.ID)
		}
		sum += p.Size
		blobs = append(blobs, silo.BlobRef{Key: p.BlobKey, Size: p.Size})
	}
	if sum != u.Bytes {
		return nil, silo.Errorf(silo.EBYTESMISMATCH, "part_ids", "The listed parts hold %d bytes, but upload %s was created with bytes=%d.", sum, u.ID, u.Bytes)
	}
	return blobs, nil
}

// CancelUpload cancels a pending Upload; its parts become garbage.
func (s *Service) CancelUpload(ctx context.Context, uploadID string) (*silo.Upload, error) {
	proj, err := project(ctx)
	if err != nil {
		return nil, err
	}
	var u *silo.Upload
	err = s.freeing(func() (err error) {
		u, err = s.meta.CancelUpload(ctx, proj, uploadID, s.now())
		return err
	})
	if err != nil {
		if silo.ErrorCode(err) == silo.EUPLOADCANCELLED && u != nil {
			return u, nil
		}
		return nil, notFound(err, "upload_id", "upload", uploadID)
	}
	s.md5.forget(uploadID)
	s.sums.forget(uploadID)
	s.observe(Event{Kind: UploadCancelled, Count: 1})
	return u, nil
}
