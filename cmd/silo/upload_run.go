package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/silo-dev/silo"
)

// uploader runs one silo upload.
type uploader struct {
	svc       silo.UploadService
	opts      *uploadOptions
	f         *os.File
	stderr    io.Writer
	statePath string
	want      *uploadState // the state a new Upload of this file starts with
	prog      *progress

	mu           sync.Mutex // guards the state's parts and its file
	saveFailed   bool
	resumedParts int // parts acknowledged before this run
}

// run resumes the saved Upload of the file or creates one, sends the parts
// and completes it. A resumed Upload that the server no longer takes
// (expired, cancelled, unknown) is started over once. It returns the state
// last used, for the message of an interruption.
func (u *uploader) run(ctx context.Context) (*silo.Upload, *uploadState, error) {
	st := u.resume(ctx)
	resumed := st != nil
	for {
		if st == nil {
			var err error
			if st, err = u.create(ctx); err != nil {
				return nil, nil, err
			}
		}
		up, err := u.send(ctx, st)
		if err == nil {
			os.Remove(u.statePath)
			return up, st, nil
		}
		if ctx.Err() == nil && unusable(err) {
			u.prog.logf("upload %s cannot be completed (%s); the next run starts a new upload", st.UploadID, silo.ErrorMessage(err))
			_, _ = u.svc.CancelUpload(ctx, st.UploadID)
			os.Remove(u.statePath)
		}
		if !resumed || ctx.Err() != nil || !restartable(err) {
			return nil, st, err
		}
		u.prog.logf("upload %s can no longer be continued (%s); starting a new upload", st.UploadID, silo.ErrorMessage(err))
		os.Remove(u.statePath)
		st, resumed = nil, false
	}
}

// restartable reports whether err says the resumed Upload is gone for good.
func restartable(err error) bool {
	switch silo.ErrorCode(err) {
	case silo.EUPLOADEXPIRED, silo.EUPLOADCANCELLED, silo.ENOTFOUND:
		return true
	}
	return false
}

// unusable reports whether err says the parts sent cannot make the file: a
// part the server lost, or bytes that differ from the file's.
func unusable(err error) bool {
	switch silo.ErrorCode(err) {
	case silo.EPARTNOTFOUND, silo.EDUPLICATEPART, silo.EBYTESMISMATCH, silo.EMD5MISMATCH:
		return true
	}
	return false
}

// resume returns the saved state if it can continue this upload, or nil
// after saying why a saved state cannot.
func (u *uploader) resume(ctx context.Context) *uploadState {
	s, err := loadState(u.statePath)
	if err != nil {
		fmt.Fprintf(u.stderr, "silo: %v; starting a new upload\n", err)
		os.Remove(u.statePath)
		return nil
	}
	if s == nil || s.BaseURL != u.want.BaseURL || s.Path != u.want.Path {
		return nil
	}
	if why := staleReason(s, u.want, time.Now()); why != "" {
		fmt.Fprintf(u.stderr, "silo: %s; starting a new upload\n", why)
		if time.Now().Unix() < s.ExpiresAt {
			// Free the old Upload's parts on the server; it cannot be completed now.
			_, _ = u.svc.CancelUpload(ctx, s.UploadID)
		}
		os.Remove(u.statePath)
		return nil
	}
	parts, bytes := s.acknowledged()
	fmt.Fprintf(u.stderr, "silo: resuming upload %s: %d of %d parts (%s) already sent\n",
		s.UploadID, parts, len(s.Parts), humanize.IBytes(uint64(bytes)))
	if s.PartSize != u.want.PartSize {
		fmt.Fprintf(u.stderr, "silo: keeping the part size of upload %s: %d bytes\n", s.UploadID, s.PartSize)
	}
	return s
}

// create creates a new Upload of the file and saves its state.
func (u *uploader) create(ctx context.Context) (*uploadState, error) {
	w := u.want
	var up *silo.Upload
	err := u.retry(ctx, "creating the upload", func() (err error) {
		up, err = u.svc.CreateUpload(ctx, &silo.UploadCreate{
			Filename: w.Filename, Purpose: w.Purpose, Bytes: w.Size, MimeType: w.MimeType, ExpiresAfter: u.opts.expiresAfter,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	st := *w
	st.UploadID, st.ExpiresAt = up.ID, up.ExpiresAt
	st.Parts = make([]string, partCount(st.Size, st.PartSize))
	u.mu.Lock()
	u.saveLocked(&st)
	u.mu.Unlock()
	return &st, nil
}

// send sends the parts not yet acknowledged and completes the Upload.
func (u *uploader) send(ctx context.Context, st *uploadState) (*silo.Upload, error) {
	parts, before := st.acknowledged()
	u.resumedParts = parts
	u.prog = newProgress(u.stderr, st.Filename, st.Size, before)
	defer u.prog.finish()
	sum, err := u.sendParts(ctx, st)
	if err != nil {
		return nil, err
	}
	if err := u.unchanged(); err != nil {
		// The parts may mix two versions of the file: complete none of it.
		_, _ = u.svc.CancelUpload(context.WithoutCancel(ctx), st.UploadID)
		os.Remove(u.statePath)
		return nil, err
	}
	ids := u.snapshot(st)
	var up *silo.Upload
	err = u.retry(ctx, "completing the upload", func() (err error) {
		up, err = u.svc.CompleteUpload(ctx, st.UploadID, ids, sum)
		return err
	})
	return up, err
}

// unchanged returns an error if the file's size or modification time is no
// longer what it was when the upload began.
func (u *uploader) unchanged() error {
	fi, err := u.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != u.want.Size || fi.ModTime().UnixNano() != u.want.ModTime {
		return permanent{fmt.Errorf("%s changed while it was being sent (its size or modification time differs); the upload was cancelled, nothing was stored: run the command again to send the file as it is now", u.want.Path)}
	}
	return nil
}

// saveLocked saves the state; the caller holds u.mu. A state that cannot be
// saved costs only the ability to resume, so the upload goes on after a warning.
func (u *uploader) saveLocked(st *uploadState) {
	if err := st.save(u.statePath); err != nil && !u.saveFailed {
		u.saveFailed = true
		u.prog.logf("cannot save the resume state (%v); an interrupted upload will start over", err)
	}
}
