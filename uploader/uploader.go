package uploader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/silo-dev/silo"
)

// Uploader sends sources as Uploads of parallel parts to one service. It is
// safe for concurrent use; each Upload is independent of the others.
type Uploader struct {
	svc  silo.UploadService
	opts Options
	err  error // of the options, returned by every Upload
}

// New returns an Uploader that sends to svc, such as the client of package
// github.com/silo-dev/silo/http.
func New(svc silo.UploadService, opts Options) *Uploader {
	o, err := opts.withDefaults()
	return &Uploader{svc: svc, opts: o, err: err}
}

// ErrSourceChanged is wrapped by the error of an upload whose source changed
// size or modification time while its parts were sent, or got shorter than
// its size. The Upload is cancelled and its saved state removed: nothing of
// it is stored, and the next upload sends the source as it is then.
var ErrSourceChanged = errors.New("the source changed while it was being sent")

// Upload sends the size bytes of src as an Upload made from req, resuming the
// saved Upload of the same source when Options.StateDir has one, and returns
// the completed Upload in the Result. On an error the Result, when not nil,
// says how far the upload got (ctx cancelled: the parts recorded for the next
// run). API errors are *silo.Error (errors.As finds them); a source that
// changed wraps ErrSourceChanged; invalid options wrap ErrInvalidOptions.
func (u *Uploader) Upload(ctx context.Context, src io.ReaderAt, size int64, req Request) (*Result, error) {
	if u.err != nil {
		return nil, u.err
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: size %d", ErrInvalidOptions, size)
	}
	if parts := partCount(size, u.opts.PartSize); parts > silo.MaxUploadParts {
		return nil, fmt.Errorf("%w: parts of %d bytes would cut %d bytes into %d parts; an upload takes at most %d: use parts of at least %d bytes",
			ErrInvalidOptions, u.opts.PartSize, size, parts, silo.MaxUploadParts, (size+silo.MaxUploadParts-1)/silo.MaxUploadParts)
	}
	r := &run{svc: u.svc, opts: u.opts, src: src, start: time.Now()}
	if s, ok := src.(interface{ Stat() (fs.FileInfo, error) }); ok {
		r.stat = s.Stat
	}
	r.want = &state{Version: stateVersion, Size: size, PartSize: u.opts.PartSize,
		Filename: req.Filename, Purpose: req.Purpose, MimeType: req.MimeType}
	r.expiresAfter = req.ExpiresAfter
	if r.stat != nil {
		fi, err := r.stat()
		if err != nil {
			return nil, err
		}
		r.want.ModTime = fi.ModTime().UnixNano()
	}
	if u.opts.StateDir != "" {
		r.want.Key = req.ResumeKey
		if n, ok := src.(interface{ Name() string }); ok && r.want.Key == "" {
			if abs, err := filepath.Abs(n.Name()); err == nil {
				r.want.Key = abs
			}
		}
		if r.want.Key != "" {
			r.statePath = statePath(u.opts.StateDir, r.want.Key)
		}
	}
	return r.run(ctx)
}

// run is one Upload call.
type run struct {
	svc          silo.UploadService
	opts         Options
	src          io.ReaderAt
	stat         func() (fs.FileInfo, error) // nil: the source cannot tell
	expiresAfter *silo.ExpiresAfter
	statePath    string // "" keeps no state
	want         *state // the state a new Upload of the source starts with
	start        time.Time

	sent atomic.Int64 // bytes read into part requests, for EventSent

	mu           sync.Mutex // guards the state's parts and its file
	saveFailed   bool
	resumedParts int   // parts acknowledged before this run
	sentBytes    int64 // bytes of the parts this run sent
}

// emit passes e to the Progress callback, if any.
func (r *run) emit(e Event) {
	if r.opts.Progress != nil {
		r.opts.Progress(e)
	}
}

// notice emits a message.
func (r *run) notice(err error, format string, args ...any) {
	r.emit(Event{Kind: EventNotice, Message: fmt.Sprintf(format, args...), Err: err})
}

// run resumes the saved Upload of the source or creates one, sends the parts
// and completes it. A resumed Upload that the server no longer takes
// (expired, cancelled, unknown) is started over once.
func (r *run) run(ctx context.Context) (*Result, error) {
	st := r.resume(ctx)
	resumed := st != nil
	for {
		if st == nil {
			var err error
			if st, err = r.create(ctx); err != nil {
				return nil, err
			}
		}
		up, sum, err := r.send(ctx, st)
		if err == nil {
			r.removeState()
			res := r.result(st)
			res.Upload, res.MD5 = up, sum
			return res, nil
		}
		if ctx.Err() == nil && unusable(err) {
			r.notice(err, "upload %s cannot be completed (%s); the next run starts a new upload", st.UploadID, silo.ErrorMessage(err))
			_, _ = r.svc.CancelUpload(ctx, st.UploadID)
			r.removeState()
		}
		if !resumed || ctx.Err() != nil || !restartable(err) {
			return r.result(st), err
		}
		r.notice(err, "upload %s can no longer be continued (%s); starting a new upload", st.UploadID, silo.ErrorMessage(err))
		r.removeState()
		st, resumed = nil, false
	}
}

// result describes how far the Upload of st got.
func (r *run) result(st *state) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	parts, bytes := st.acknowledged()
	res := &Result{
		UploadID: st.UploadID, ExpiresAt: st.ExpiresAt,
		Parts: len(st.Parts), PartsDone: parts, PartsResumed: r.resumedParts,
		Bytes: st.Size, BytesDone: bytes, BytesSent: r.sentBytes,
		Elapsed: time.Since(r.start),
	}
	if !r.saveFailed {
		res.StatePath = r.statePath
	}
	return res
}

// removeState deletes the saved state, if any.
func (r *run) removeState() {
	if r.statePath != "" {
		os.Remove(r.statePath)
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
func (r *run) resume(ctx context.Context) *state {
	if r.statePath == "" {
		return nil
	}
	s, err := loadState(r.statePath)
	if err != nil {
		r.notice(err, "%v; starting a new upload", err)
		r.removeState()
		return nil
	}
	if s == nil || s.Key != r.want.Key {
		return nil
	}
	if why := staleReason(s, r.want, time.Now()); why != "" {
		r.notice(nil, "%s; starting a new upload", why)
		if time.Now().Unix() < s.ExpiresAt {
			// Free the old Upload's parts on the server; it cannot be completed now.
			_, _ = r.svc.CancelUpload(ctx, s.UploadID)
		}
		r.removeState()
		return nil
	}
	if s.PartSize != r.want.PartSize {
		r.notice(nil, "keeping the part size upload %s began with: %d bytes", s.UploadID, s.PartSize)
	}
	return s
}

// create creates a new Upload of the source and saves its state.
func (r *run) create(ctx context.Context) (*state, error) {
	w := r.want
	var up *silo.Upload
	err := r.retry(ctx, "creating the upload", func() (err error) {
		up, err = r.svc.CreateUpload(ctx, &silo.UploadCreate{
			Filename: w.Filename, Purpose: w.Purpose, Bytes: w.Size, MimeType: w.MimeType, ExpiresAfter: r.expiresAfter,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	st := *w
	st.UploadID, st.ExpiresAt = up.ID, up.ExpiresAt
	st.Parts = make([]string, partCount(st.Size, st.PartSize))
	r.mu.Lock()
	r.saveLocked(&st)
	r.mu.Unlock()
	return &st, nil
}

// send sends the parts not yet acknowledged and completes the Upload. It
// returns the digest it sent, if any.
func (r *run) send(ctx context.Context, st *state) (*silo.Upload, string, error) {
	r.mu.Lock()
	parts, before := st.acknowledged()
	r.resumedParts, r.sentBytes = parts, 0
	r.mu.Unlock()
	r.sent.Store(before)
	r.emit(Event{Kind: EventStart, UploadID: st.UploadID, Parts: len(st.Parts), PartsDone: parts, Bytes: st.Size, Sent: before})
	sum, err := r.sendParts(ctx, st)
	if err != nil {
		return nil, "", err
	}
	if err := r.unchanged(); err != nil {
		// The parts may mix two versions of the file: complete none of it.
		_, _ = r.svc.CancelUpload(context.WithoutCancel(ctx), st.UploadID)
		r.removeState()
		return nil, "", err
	}
	ids := r.snapshot(st)
	r.emit(Event{Kind: EventComplete, UploadID: st.UploadID, Parts: len(st.Parts), PartsDone: len(st.Parts), Bytes: st.Size, Sent: st.Size, MD5: sum != ""})
	var up *silo.Upload
	err = r.retry(ctx, "completing the upload", func() (err error) {
		up, err = r.svc.CompleteUpload(ctx, st.UploadID, ids, sum)
		return err
	})
	return up, sum, err
}

// unchanged returns an error if the source's size or modification time is no
// longer what it was when the upload began.
func (r *run) unchanged() error {
	if r.stat == nil {
		return nil
	}
	fi, err := r.stat()
	if err != nil {
		return err
	}
	if fi.Size() < r.want.Size || fi.ModTime().UnixNano() != r.want.ModTime {
		return permanent{fmt.Errorf("%s: %w (its size or modification time differs); the upload was cancelled, nothing was stored", r.want.Filename, ErrSourceChanged)}
	}
	return nil
}

// saveLocked saves the state; the caller holds r.mu. A state that cannot be
// saved costs only the ability to resume, so the upload goes on after a notice.
func (r *run) saveLocked(st *state) {
	if r.statePath == "" {
		return
	}
	if err := st.save(r.statePath); err != nil && !r.saveFailed {
		r.saveFailed = true
		r.notice(err, "cannot save the resume state (%v); an interrupted upload will start over", err)
	}
}
