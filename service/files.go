package service

import (
	"context"
	"fmt"
	"io"

	"github.com/silo-dev/silo"
)

// CreateFile streams req.Data into one blob and records the File.
func (s *Service) CreateFile(ctx context.Context, req *silo.FileCreate) (*silo.File, error) {
	proj, err := project(ctx)
	if err != nil {
		return nil, err
	}
	// Fields that came before the file are checked before any byte is stored.
	if req.Purpose != "" {
		if err := silo.CheckPurpose(req.Purpose); err != nil {
			return nil, err
		}
		if err := silo.CheckFileFormat(req.Purpose, req.Filename, "file"); err != nil {
			return nil, err
		}
	}
	if err := silo.CheckExpiresAfter(req.ExpiresAfter); err != nil {
		return nil, err
	}
	if req.Data == nil {
		return nil, silo.Errorf(silo.EMISSING, "file", "Missing required parameter: 'file'.")
	}
	if err := silo.CheckFilename(req.Filename, "file"); err != nil {
		return nil, err
	}
	if err := s.checkRoom(ctx, proj, silo.Usage{Bytes: 1, Files: 1}); err != nil {
		return nil, err
	}
	f := &silo.File{ID: s.cfg.NewID(silo.FileIDPrefix), Project: proj}
	key := fileKeys + f.ID
	tooLarge := silo.Errorf(silo.EFILETOOLARGE, "file", "A file sent to /files takes at most %d bytes (512 MiB); send larger files through /uploads in parts.", silo.MaxFileBytes)
	n, err := s.blobs.Put(ctx, key, &limitReader{r: req.Data, n: silo.MaxFileBytes, err: tooLarge})
	if err != nil {
		return nil, err
	}
	discard := func(err error) (*silo.File, error) {
		s.blobs.Delete(context.WithoutCancel(ctx), key)
		return nil, err
	}
	if req.Rest != nil {
		if err := req.Rest(req); err != nil {
			return discard(err)
		}
	}
	if err := silo.CheckPurpose(req.Purpose); err != nil {
		return discard(err)
	}
	if err := silo.CheckFileFormat(req.Purpose, req.Filename, "file"); err != nil {
		return discard(err)
	}
	if err := silo.CheckExpiresAfter(req.ExpiresAfter); err != nil {
		return discard(err)
	}
	var after int64
	if req.ExpiresAfter != nil {
		after = req.ExpiresAfter.Seconds
	}
	now := s.now().Unix()
	f.Bytes = n
	f.CreatedAt = now
	f.Filename = req.Filename
	if f.Filename == "" {
		f.Filename = "file"
	}
	f.Purpose = req.Purpose
	f.ExpiresAt = silo.FileExpiresAt(req.Purpose, now, after)
	f.Blobs = []silo.BlobRef{{Key: key, Size: n}}
	if err := ctx.Err(); err != nil {
		return discard(err) // the client left before the record was begun
	}
	cctx, cancel := commitContext(ctx)
	defer cancel()
	if err := s.meta.CreateFile(cctx, f, s.cfg.Quota); err != nil {
		if !refused(err) {
			return nil, err // the record may exist: the orphan sweep decides
		}
		return discard(err)
	}
	s.observe(Event{Kind: FileCreated, Count: 1, Bytes: f.Bytes})
	return f, nil
}

// GetFile returns a File of the project.
func (s *Service) GetFile(ctx context.Context, id string) (*silo.File, error) {
	proj, err := project(ctx)
	if err != nil {
		return nil, err
	}
	f, err := s.meta.GetFile(ctx, proj, id, s.now())
	if err != nil {
		return nil, notFound(err, "file_id", "file", id)
	}
	return f, nil
}

// ListFiles returns one page of the project's files.
func (s *Service) ListFiles(ctx context.Context, q silo.FileQuery) (*silo.FileList, error) {
	proj, err := project(ctx)
	if err != nil {
		return nil, err
	}
	if err := silo.CheckFileQuery(&q); err != nil {
		return nil, err
	}
	return s.meta.ListFiles(ctx, proj, q, s.now())
}

// DeleteFile deletes a File; its blobs become garbage.
func (s *Service) DeleteFile(ctx context.Context, id string) error {
	proj, err := project(ctx)
	if err != nil {
		return err
	}
	if err := s.freeing(func() error { return s.meta.DeleteFile(ctx, proj, id, s.now()) }); err != nil {
		return notFound(err, "file_id", "file", id)
	}
	s.observe(Event{Kind: FileDeleted, Count: 1})
	return nil
}

// OpenFile returns the File and a reader of a range of its bytes. The first
// blob is opened at once, so that a blob store that is down fails the request
// before a response has begun; the others are opened as the reader reaches them.
func (s *Service) OpenFile(ctx context.Context, id string, offset, length int64) (*silo.File, io.ReadCloser, error) {
	f, err := s.GetFile(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if offset < 0 || offset > f.Bytes {
		return nil, nil, silo.Errorf(silo.ERANGE, "", "The range starts at byte %d, but file %s has %d bytes.", offset, id, f.Bytes)
	}
	rd := newBlobsReader(ctx, s.blobs, f.Blobs, offset, length)
	if err := rd.open(); err != nil && err != io.EOF {
		if silo.ErrorCode(err) == silo.ENOTFOUND {
			// The record names bytes the blob store lacks: that is ours, not
			// the client's, to answer for.
			return nil, nil, fmt.Errorf("file %s: blob missing: %v", id, err)
		}
		return nil, nil, err
	}
	return f, rd, nil
}
