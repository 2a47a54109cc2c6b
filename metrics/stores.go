package metrics

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/silo-dev/silo"
)

// timer observes store operations of one store.
type timer struct {
	store string
	time  *prometheus.HistogramVec
	errs  *prometheus.CounterVec
}

// done observes an operation op that began at start and ended with err. A
// caller that gave up (context canceled) is no store error.
func (t timer) done(op string, start time.Time, err error) {
	t.time.WithLabelValues(t.store, op).Observe(time.Since(start).Seconds())
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	code := silo.ErrorCode(err)
	if code == "" {
		code = silo.EINTERNAL
	}
	t.errs.WithLabelValues(t.store, op, code).Inc()
}

// MetaStore returns ms with every operation timed and its errors counted
// (silo_store_operation_*{store="metadata"}). It keeps ms's Ping.
func (m *Metrics) MetaStore(ms silo.MetaStore) silo.MetaStore {
	return &metaStore{next: ms, t: timer{"metadata", m.storeTime, m.storeErrs}}
}

type metaStore struct {
	next silo.MetaStore
	t    timer
}

var (
	_ silo.MetaStore = (*metaStore)(nil)
	_ silo.Pinger    = (*metaStore)(nil)
)

func (s *metaStore) CreateUpload(ctx context.Context, u *silo.Upload, q silo.Quota) error {
	start := time.Now()
	err := s.next.CreateUpload(ctx, u, q)
	s.t.done("create_upload", start, err)
	return err
}

func (s *metaStore) GetUpload(ctx context.Context, project, id string) (*silo.Upload, error) {
	start := time.Now()
	v, err := s.next.GetUpload(ctx, project, id)
	s.t.done("get_upload", start, err)
	return v, err
}

func (s *metaStore) AddPart(ctx context.Context, p *silo.Part, now time.Time, max silo.PartLimits, q silo.Quota) error {
	start := time.Now()
	err := s.next.AddPart(ctx, p, now, max, q)
	s.t.done("add_part", start, err)
	return err
}

func (s *metaStore) ListParts(ctx context.Context, project, uploadID string) ([]*silo.Part, error) {
	start := time.Now()
	v, err := s.next.ListParts(ctx, project, uploadID)
	s.t.done("list_parts", start, err)
	return v, err
}

func (s *metaStore) CompleteUpload(ctx context.Context, c *silo.Completion) (*silo.Upload, error) {
	start := time.Now()
	v, err := s.next.CompleteUpload(ctx, c)
	s.t.done("complete_upload", start, err)
	return v, err
}

func (s *metaStore) CancelUpload(ctx context.Context, project, id string, now time.Time) (*silo.Upload, error) {
	start := time.Now()
	v, err := s.next.CancelUpload(ctx, project, id, now)
	s.t.done("cancel_upload", start, err)
	return v, err
}

func (s *metaStore) ExpireUploads(ctx context.Context, now time.Time, n int) (int, error) {
	start := time.Now()
	v, err := s.next.ExpireUploads(ctx, now, n)
	s.t.done("expire_uploads", start, err)
	return v, err
}

func (s *metaStore) CreateFile(ctx context.Context, f *silo.File, q silo.Quota) error {
	start := time.Now()
	err := s.next.CreateFile(ctx, f, q)
	s.t.done("create_file", start, err)
	return err
}

func (s *metaStore) GetFile(ctx context.Context, project, id string, now time.Time) (*silo.File, error) {
	start := time.Now()
	v, err := s.next.GetFile(ctx, project, id, now)
	s.t.done("get_file", start, err)
	return v, err
}

func (s *metaStore) ListFiles(ctx context.Context, project string, q silo.FileQuery, now time.Time) (*silo.FileList, error) {
	start := time.Now()
	v, err := s.next.ListFiles(ctx, project, q, now)
	s.t.done("list_files", start, err)
	return v, err
}

func (s *metaStore) DeleteFile(ctx context.Context, project, id string, now time.Time) error {
	start := time.Now()
	err := s.next.DeleteFile(ctx, project, id, now)
	s.t.done("delete_file", start, err)
	return err
}

func (s *metaStore) ExpireFiles(ctx context.Context, now time.Time, n int) (int, error) {
	start := time.Now()
	v, err := s.next.ExpireFiles(ctx, now, n)
	s.t.done("expire_files", start, err)
	return v, err
}

func (s *metaStore) Usage(ctx context.Context, project string) (silo.Usage, error) {
	start := time.Now()
	v, err := s.next.Usage(ctx, project)
	s.t.done("usage", start, err)
	return v, err
}

func (s *metaStore) ClaimGarbage(ctx context.Context, queuedBefore, now time.Time, lease time.Duration, n int) ([]string, error) {
	start := time.Now()
	v, err := s.next.ClaimGarbage(ctx, queuedBefore, now, lease, n)
	s.t.done("claim_garbage", start, err)
	return v, err
}

func (s *metaStore) ForgetGarbage(ctx context.Context, keys []string) error {
	start := time.Now()
	err := s.next.ForgetGarbage(ctx, keys)
	s.t.done("forget_garbage", start, err)
	return err
}

func (s *metaStore) KnownBlobs(ctx context.Context, keys []string) (map[string]bool, error) {
	start := time.Now()
	v, err := s.next.KnownBlobs(ctx, keys)
	s.t.done("known_blobs", start, err)
	return v, err
}

func (s *metaStore) Close() error { return s.next.Close() }

// Ping is the store's, untimed (readiness probes are not operations); a store
// without one is always up.
func (s *metaStore) Ping(ctx context.Context) error {
	if p, ok := s.next.(silo.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// BlobStore returns bs with every operation timed and its errors counted
// (silo_store_operation_*{store="blobs"}). It keeps bs's Ping and, if bs has
// it, List (silo.BlobLister); readers are bs's own, so an io.WriterTo reader
// still sends with sendfile. Open is timed until the reader is returned, Put
// until its bytes are durable (which includes the wait for the client's
// bytes).
func (m *Metrics) BlobStore(bs silo.BlobStore) silo.BlobStore {
	b := &blobStore{next: bs, t: timer{"blobs", m.storeTime, m.storeErrs}}
	if l, ok := bs.(silo.BlobLister); ok {
		return &listingBlobStore{blobStore: b, lister: l}
	}
	return b
}

type blobStore struct {
	next silo.BlobStore
	t    timer
}

var (
	_ silo.BlobStore         = (*blobStore)(nil)
	_ silo.Pinger            = (*blobStore)(nil)
	_ silo.Ballast           = (*blobStore)(nil)
	_ silo.PutBufferer       = (*blobStore)(nil)
	_ silo.UnfinishedAborter = (*blobStore)(nil)
	_ silo.BlobLister        = (*listingBlobStore)(nil)
)

func (s *blobStore) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	start := time.Now()
	n, err := s.next.Put(ctx, key, r)
	s.t.done("put", start, err)
	return n, err
}

func (s *blobStore) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	start := time.Now()
	rc, err := s.next.Open(ctx, key, offset, length)
	s.t.done("open", start, err)
	return rc, err
}

func (s *blobStore) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := s.next.Delete(ctx, key)
	s.t.done("delete", start, err)
	return err
}

func (s *blobStore) Close() error { return s.next.Close() }

// Ping is the store's, untimed; a store without one is always up.
func (s *blobStore) Ping(ctx context.Context) error {
	if p, ok := s.next.(silo.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// AbortUnfinished passes on to the store if it is a silo.UnfinishedAborter
// (S3); any other store has nothing unfinished to drop.
func (s *blobStore) AbortUnfinished(ctx context.Context, keyPrefixes []string, startedBefore time.Time) (int, error) {
	if a, ok := s.next.(silo.UnfinishedAborter); ok {
		return a.AbortUnfinished(ctx, keyPrefixes, startedBefore)
	}
	return 0, nil
}

// PutBufferBytes passes on to the store if it is a silo.PutBufferer, else 0.
func (s *blobStore) PutBufferBytes() int {
	if b, ok := s.next.(silo.PutBufferer); ok {
		return b.PutBufferBytes()
	}
	return 0
}

// DropBallast passes on to the store if it is a silo.Ballast (disk's
// --min-free-space); for any other store it does nothing, as a store without
// a ballast would.
func (s *blobStore) DropBallast(below int64) {
	if b, ok := s.next.(silo.Ballast); ok {
		b.DropBallast(below)
	}
}

// Unwrap returns the store under the instrumentation, for optional
// capabilities this wrapper does not know.
func (s *blobStore) Unwrap() silo.BlobStore { return s.next }

// Unwrap returns the store under the instrumentation, for optional
// capabilities this wrapper does not know.
func (s *metaStore) Unwrap() silo.MetaStore { return s.next }

// listingBlobStore is a blobStore over a store that can list.
type listingBlobStore struct {
	*blobStore
	lister silo.BlobLister
}

func (s *listingBlobStore) List(ctx context.Context, fn func(key string, stored time.Time) error) error {
	start := time.Now()
	err := s.lister.List(ctx, fn)
	s.t.done("list", start, err)
	return err
}
