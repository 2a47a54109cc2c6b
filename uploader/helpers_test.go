package uploader

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/internal/pseudo"
	"github.com/silo-dev/silo/service"
)

// testData returns n bytes that differ from part to part.
func testData(n int, seed uint64) []byte { return pseudo.Bytes(n, seed) }

// fault is what faulty does with one AddPart call.
type fault int

const (
	pass  fault = iota // the service stores the part and its answer arrives
	fail               // the request fails before the service sees it
	lose               // the service stores the part, but its answer is lost
	block              // the call waits for its context to end
)

// faulty is an UploadService over inmem whose AddPart calls go through hook,
// which sees each call numbered from 1 in order of arrival and the index of
// the part it carries (found by its bytes), and decides its fault. It counts
// the parts that reached the service, by index.
type faulty struct {
	silo.UploadService
	files silo.FileService
	index map[[32]byte]int // part index by the digest of its bytes

	mu     sync.Mutex
	calls  int
	stored map[int]int
	hook   func(n, i int) (fault, error)
	// complete, when set, answers CompleteUpload instead of the service.
	complete func() error
}

// newFaulty returns a faulty service whose parts are data cut in partSize
// pieces, and a context of its project.
func newFaulty(t *testing.T, data []byte, partSize int) (*faulty, context.Context) {
	t.Helper()
	svc := service.New(inmem.NewMetaStore(), inmem.NewBlobStore(), service.Config{})
	t.Cleanup(func() { svc.Close() })
	f := &faulty{UploadService: svc, files: svc, stored: map[int]int{}}
	f.cut(data, partSize)
	return f, silo.WithProject(context.Background(), "p1")
}

// cut makes the parts that f knows data cut in partSize pieces.
func (f *faulty) cut(data []byte, partSize int) {
	f.index = map[[32]byte]int{}
	for i := 0; i*partSize < len(data) || i == 0; i++ {
		f.index[sha256.Sum256(data[i*partSize:min((i+1)*partSize, len(data))])] = i
	}
}

// netError is an error of the transport, as the HTTP client returns it.
func netError(err error) error {
	return &url.Error{Op: "Post", URL: "http://127.0.0.1/v1/uploads/x/parts", Err: err}
}

func (f *faulty) AddPart(ctx context.Context, uploadID string, data io.Reader) (*silo.Part, error) {
	b, err := io.ReadAll(data)
	if err != nil {
		return nil, netError(err)
	}
	i, ok := f.index[sha256.Sum256(b)]
	if !ok {
		i = -1
	}
	f.mu.Lock()
	f.calls++
	n, hook := f.calls, f.hook
	f.mu.Unlock()
	what, ferr := pass, error(nil)
	if hook != nil {
		what, ferr = hook(n, i)
	}
	switch what {
	case fail:
		return nil, ferr
	case block:
		<-ctx.Done()
		return nil, netError(ctx.Err())
	}
	p, err := f.UploadService.AddPart(ctx, uploadID, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.stored[i]++
	f.mu.Unlock()
	if what == lose {
		return nil, ferr
	}
	return p, nil
}

func (f *faulty) CompleteUpload(ctx context.Context, uploadID string, partIDs []string, md5 string) (*silo.Upload, error) {
	f.mu.Lock()
	c := f.complete
	f.mu.Unlock()
	if c != nil {
		if err := c(); err != nil {
			return nil, err
		}
	}
	return f.UploadService.CompleteUpload(ctx, uploadID, partIDs, md5)
}

// reset returns the parts stored by index since the last reset, and forgets
// them and the call count.
func (f *faulty) reset() map[int]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stored
	f.stored, f.calls = map[int]int{}, 0
	return s
}

// content returns the bytes of the File.
func (f *faulty) content(t *testing.T, ctx context.Context, id string) []byte {
	t.Helper()
	_, rc, err := f.files.OpenFile(ctx, id, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorder is an Options.Progress that keeps what it heard and fails the
// test when it hears anything after stop.
type recorder struct {
	t       *testing.T
	stopped atomic.Bool

	mu      sync.Mutex
	delta   int64
	starts  []Event
	notices []string
	final   []Event
}

func (r *recorder) progress(e Event) {
	if r.stopped.Load() {
		r.t.Errorf("event after Upload returned: %+v", e)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Kind {
	case EventStart:
		r.starts = append(r.starts, e)
		r.delta = 0
	case EventSent:
		r.delta += e.Delta
	case EventNotice:
		r.notices = append(r.notices, e.Message)
	case EventComplete:
		r.final = append(r.final, e)
	}
}

// stop is called once Upload returned.
func (r *recorder) stop() { r.stopped.Store(true) }

// fast is the options of the tests: short waits between tries.
func fast(o Options) Options {
	o.Backoff = func(int) time.Duration { return time.Millisecond }
	return o
}
