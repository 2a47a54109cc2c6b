package service_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/service"
)

// countingBlobs counts the blob opens made for requests whose context is
// marked (the background hashing of arriving parts is not counted).
type countingBlobs struct {
	*inmem.BlobStore
	opens atomic.Int64
	all   atomic.Int64 // every open, marked or not
}

type markKey struct{}

func (c *countingBlobs) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	c.all.Add(1)
	if ctx.Value(markKey{}) != nil {
		c.opens.Add(1)
	}
	return c.BlobStore.Open(ctx, key, off, n)
}

// TestUploadService_CompleteMD5Chain checks that a complete with md5 and the
// parts in the order they were sent reads no bytes: the digest was chained as
// the parts arrived. In another order it reads only what the chain lacks.
func TestUploadService_CompleteMD5Chain(t *testing.T) {
	blobs := &countingBlobs{BlobStore: inmem.NewBlobStore()}
	f := newFixtureOn(t, blobs)
	var parts [][]byte
	var ids []string
	u := f.upload(t, 5*1000)
	for i := range 5 {
		parts = append(parts, randBytes(1000, byte(i)))
		f.clock.Add(time.Millisecond)
		ids = append(ids, f.part(t, u.ID, parts[i]).ID)
	}
	marked := context.WithValue(f.ctx, markKey{}, true)
	if _, err := f.svc.CompleteUpload(marked, u.ID, ids, md5hex(slices.Concat(parts...))); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if n := blobs.opens.Load(); n != 0 {
		t.Fatalf("complete with md5 in upload order opened %d blobs, want 0", n)
	}

	v := f.upload(t, 5*1000)
	var vids []string
	for i := range 5 {
		f.clock.Add(time.Millisecond)
		vids = append(vids, f.part(t, v.ID, parts[i]).ID)
	}
	order := []string{vids[0], vids[1], vids[2], vids[4], vids[3]}
	blobs.opens.Store(0)
	if _, err := f.svc.CompleteUpload(marked, v.ID, order, md5hex(slices.Concat(parts[0], parts[1], parts[2], parts[4], parts[3]))); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if n := blobs.opens.Load(); n != 2 {
		t.Fatalf("complete with the last two parts swapped opened %d blobs, want 2", n)
	}
}

var _ silo.BlobStore = (*countingBlobs)(nil)

// TestUploadService_NoArrivalMD5: with the arrival hashing off, a complete
// with md5 reads the bytes itself, and gets the same answer.
func TestUploadService_NoArrivalMD5(t *testing.T) {
	blobs := &countingBlobs{BlobStore: inmem.NewBlobStore()}
	f := newFixtureOn(t, blobs)
	f.svc = service.New(f.meta, blobs, service.Config{Now: f.clock.Now, NoArrivalMD5: true})
	var parts [][]byte
	var ids []string
	u := f.upload(t, 3*1000)
	for i := range 3 {
		parts = append(parts, randBytes(1000, byte(i)))
		f.clock.Add(time.Millisecond)
		ids = append(ids, f.part(t, u.ID, parts[i]).ID)
	}
	marked := context.WithValue(f.ctx, markKey{}, true)
	if _, err := f.svc.CompleteUpload(marked, u.ID, ids, md5hex(slices.Concat(parts...))); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if n := blobs.opens.Load(); n != 3 {
		t.Fatalf("complete with md5 and no arrival hashing opened %d blobs, want all 3", n)
	}
}

// md5Bytes counts the bytes hashed for md5 by event kind.
type md5Bytes struct {
	mu sync.Mutex
	m  map[service.EventKind]int64
}

func (c *md5Bytes) Observe(e service.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[service.EventKind]int64{}
	}
	c.m[e.Kind] += e.Bytes
}

// want fails unless the bytes hashed inline, read back by the chain and read
// by a complete are those given.
func (c *md5Bytes) want(t *testing.T, inline, readBack, complete int64) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	got := [3]int64{c.m[service.MD5OnArrival], c.m[service.MD5ReadBack], c.m[service.MD5OnComplete]}
	if want := [3]int64{inline, readBack, complete}; got != want {
		t.Errorf("md5 bytes hashed inline, read back, by the complete = %v, want %v", got, want)
	}
}

// newMD5Fixture is a fixture over blobs whose service counts md5 bytes.
func newMD5Fixture(t *testing.T, blobs silo.BlobStore) (*fixture, *md5Bytes) {
	f := newFixtureOn(t, blobs)
	obs := &md5Bytes{}
	f.svc = service.New(f.meta, blobs, service.Config{Now: f.clock.Now, NewID: (&ids{}).New, Observer: obs})
	t.Cleanup(func() { f.svc.Close() })
	return f, obs
}

// gatedReader gives the first half of its bytes, says so on half, and gives
// the rest once open is closed.
type gatedReader struct {
	b    []byte
	i    int
	half chan struct{}
	open chan struct{}
}

func newGatedReader(b []byte) *gatedReader {
	return &gatedReader{b: b, half: make(chan struct{}), open: make(chan struct{})}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	mid := len(g.b) / 2
	if g.i == mid {
		close(g.half)
		<-g.open
	}
	end := len(g.b)
	if g.i < mid {
		end = mid
	}
	if g.i == len(g.b) {
		return 0, io.EOF
	}
	n := copy(p, g.b[g.i:end])
	g.i += n
	return n, nil
}

// addPartAsync runs AddPart in a goroutine; the channel gets its result.
func (f *fixture) addPartAsync(uploadID string, r io.Reader) <-chan partResult {
	ch := make(chan partResult, 1)
	go func() {
		p, err := f.svc.AddPart(f.ctx, uploadID, r)
		ch <- partResult{p, err}
	}()
	return ch
}

type partResult struct {
	p   *silo.Part
	err error
}

// TestMD5_InlineSequential: parts sent one at a time are hashed as they
// arrive, none is read back, and a complete with md5 reads nothing.
func TestMD5_InlineSequential(t *testing.T) {
	blobs := &countingBlobs{BlobStore: inmem.NewBlobStore()}
	f, obs := newMD5Fixture(t, blobs)
	var parts [][]byte
	var ids []string
	u := f.upload(t, 4*3000)
	for i := range 4 {
		parts = append(parts, randBytes(3000, byte(i)))
		f.clock.Add(time.Millisecond)
		ids = append(ids, f.part(t, u.ID, parts[i]).ID)
	}
	marked := context.WithValue(f.ctx, markKey{}, true)
	if _, err := f.svc.CompleteUpload(marked, u.ID, ids, md5hex(slices.Concat(parts...))); err != nil {
		t.Fatalf("complete: %v", err)
	}
	obs.want(t, 4*3000, 0, 0)
	if n := blobs.opens.Load(); n != 0 {
		t.Errorf("complete opened %d blobs, want 0", n)
	}
	if n := blobs.all.Load(); n != 0 {
		t.Errorf("%d blobs were opened, want none", n)
	}
}

// gatedOpens is a blob store whose next Open after shut waits until the
// release channel shut returned is closed.
type gatedOpens struct {
	*inmem.BlobStore
	mu      sync.Mutex
	gate    chan struct{}
	waiting chan struct{}
}

// shut makes the next Open wait: waiting is closed when it does, and it goes
// on when release is closed.
func (g *gatedOpens) shut() (waiting, release chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate, g.waiting = make(chan struct{}), make(chan struct{})
	return g.waiting, g.gate
}

func (g *gatedOpens) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	g.mu.Lock()
	gate, waiting := g.gate, g.waiting
	g.gate, g.waiting = nil, nil
	g.mu.Unlock()
	if gate != nil {
		close(waiting)
		<-gate
	}
	return g.BlobStore.Open(ctx, key, off, n)
}

// TestMD5_PartDuringPart: a part that starts while the chain is mid-part —
// another part still arriving and being hashed inline, or the chain reading a
// stored part back — is not hashed inline but read back once the chain
// reaches it, and the digest is right.
func TestMD5_PartDuringPart(t *testing.T) {
	blobs := &gatedOpens{BlobStore: inmem.NewBlobStore()}
	f, obs := newMD5Fixture(t, blobs)
	a, b, c := randBytes(4000, 1), randBytes(3000, 2), randBytes(2000, 3)
	u := f.upload(t, 9000)

	ga := newGatedReader(a)
	resA := f.addPartAsync(u.ID, ga)
	<-ga.half // a is mid-way, hashed inline
	f.clock.Add(time.Millisecond)
	pb := f.part(t, u.ID, b) // stored and recorded while a arrives

	waiting, release := blobs.shut() // the chain's read-back of b waits
	close(ga.open)
	ra := <-resA
	if ra.err != nil {
		t.Fatalf("AddPart a: %v", ra.err)
	}
	<-waiting // the chain is reading b back
	f.clock.Add(time.Millisecond)
	pc := f.part(t, u.ID, c)
	close(release)

	ids := []string{ra.p.ID, pb.ID, pc.ID}
	if _, err := f.svc.CompleteUpload(f.ctx, u.ID, ids, md5hex(slices.Concat(a, b, c))); err != nil {
		t.Fatalf("complete: %v", err)
	}
	obs.want(t, 4000, 3000+2000, 0)
}

// TestMD5_CancelWhileHashing: an Upload cancelled while a part is hashed
// inline records no hash for it; the part is refused, and a complete of the
// chain's Upload is no longer possible.
func TestMD5_CancelWhileHashing(t *testing.T) {
	f, obs := newMD5Fixture(t, inmem.NewBlobStore())
	a := randBytes(4000, 1)
	u := f.upload(t, 4000)
	ga := newGatedReader(a)
	resA := f.addPartAsync(u.ID, ga)
	<-ga.half
	if _, err := f.svc.CancelUpload(f.ctx, u.ID); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	close(ga.open)
	if r := <-resA; r.err == nil {
		t.Fatal("a part of a cancelled upload was recorded")
	}
	obs.want(t, 0, 0, 0)

	// Another Upload's chain starts afresh.
	v := f.upload(t, 4000)
	p := f.part(t, v.ID, a)
	if _, err := f.svc.CompleteUpload(f.ctx, v.ID, []string{p.ID}, md5hex(a)); err != nil {
		t.Fatalf("complete: %v", err)
	}
	obs.want(t, 4000, 0, 0)
}

// failingPut is a blob store whose Puts fail after reading every byte, while
// fail is set: a crash after the bytes were written and hashed, before they
// were recorded.
type failingPut struct {
	*inmem.BlobStore
	fail atomic.Bool
}

func (f *failingPut) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if f.fail.Load() {
		n, _ := io.Copy(io.Discard, r)
		return n, errors.New("disk gone")
	}
	return f.BlobStore.Put(ctx, key, r)
}

// shortPut is a blob store that stores only the first keep bytes of each
// blob and says so: the digest must be of the bytes stored, not of those sent.
type shortPut struct {
	*inmem.BlobStore
	keep int64
}

func (s *shortPut) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	n, err := s.BlobStore.Put(ctx, key, io.LimitReader(r, s.keep))
	io.Copy(io.Discard, r)
	return n, err
}

// TestMD5_CrashBetweenWriteAndHash: bytes hashed but not stored and recorded
// never enter a digest, and a digest is only ever of the bytes stored.
func TestMD5_CrashBetweenWriteAndHash(t *testing.T) {
	a, b := randBytes(4000, 1), randBytes(3000, 2)
	t.Run("put fails after the bytes", func(t *testing.T) {
		blobs := &failingPut{BlobStore: inmem.NewBlobStore()}
		f, obs := newMD5Fixture(t, blobs)
		u := f.upload(t, 7000)
		blobs.fail.Store(true)
		if _, err := f.svc.AddPart(f.ctx, u.ID, bytes.NewReader(b)); err == nil {
			t.Fatal("AddPart succeeded over a failing store")
		}
		blobs.fail.Store(false)
		f.clock.Add(time.Millisecond)
		pa := f.part(t, u.ID, a)
		f.clock.Add(time.Millisecond)
		pb := f.part(t, u.ID, b)
		if _, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{pa.ID, pb.ID}, md5hex(slices.Concat(a, b))); err != nil {
			t.Fatalf("complete: %v", err)
		}
		obs.want(t, 7000, 0, 0)
	})
	t.Run("restart between parts", func(t *testing.T) {
		f, _ := newMD5Fixture(t, inmem.NewBlobStore())
		u := f.upload(t, 7000)
		pa := f.part(t, u.ID, a)
		// A new process over the same stores knows nothing of a's hash: its
		// chain starts at b, and the complete reads what that chain lacks.
		f.svc.Close()
		obs := &md5Bytes{}
		f.svc = service.New(f.meta, f.blobs, service.Config{Now: f.clock.Now, NewID: (&ids{n: 100}).New, Observer: obs})
		f.clock.Add(time.Millisecond)
		pb := f.part(t, u.ID, b)
		if _, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{pa.ID, pb.ID}, md5hex(slices.Concat(a))); err == nil {
			t.Fatal("complete with a wrong md5 succeeded")
		}
		if _, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{pa.ID, pb.ID}, md5hex(slices.Concat(a, b))); err != nil {
			t.Fatalf("complete: %v", err)
		}
		obs.want(t, 3000, 0, 7000)
	})
	t.Run("store keeps fewer bytes than it read", func(t *testing.T) {
		f, obs := newMD5Fixture(t, &shortPut{BlobStore: inmem.NewBlobStore(), keep: 1000})
		u := f.upload(t, 1000)
		p := f.part(t, u.ID, a)
		if _, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{p.ID}, md5hex(a)); err == nil {
			t.Fatal("complete with the md5 of bytes never stored succeeded")
		}
		if _, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{p.ID}, md5hex(a[:1000])); err != nil {
			t.Fatalf("complete with the md5 of the stored bytes: %v", err)
		}
		obs.want(t, 0, 1000, 0)
	})
}

// TestMD5_InlineOnly: with NoMD5ReadBack, a part that overtook the chain is
// never read back; the chain ends before it, and a complete with md5 reads
// from there, with the right digest.
func TestMD5_InlineOnly(t *testing.T) {
	blobs := inmem.NewBlobStore()
	f := newFixtureOn(t, blobs)
	obs := &md5Bytes{}
	f.svc = service.New(f.meta, blobs, service.Config{Now: f.clock.Now, NewID: (&ids{}).New, Observer: obs, NoMD5ReadBack: true})
	t.Cleanup(func() { f.svc.Close() })
	a, b, c := randBytes(4000, 1), randBytes(3000, 2), randBytes(2000, 3)
	u := f.upload(t, 9000)
	ga := newGatedReader(a)
	resA := f.addPartAsync(u.ID, ga)
	<-ga.half
	f.clock.Add(time.Millisecond)
	pb := f.part(t, u.ID, b) // overtakes a
	close(ga.open)
	ra := <-resA
	if ra.err != nil {
		t.Fatalf("AddPart a: %v", ra.err)
	}
	f.clock.Add(time.Millisecond)
	pc := f.part(t, u.ID, c) // after the chain's end: not hashed either
	if _, err := f.svc.CompleteUpload(f.ctx, u.ID, []string{ra.p.ID, pb.ID, pc.ID}, md5hex(slices.Concat(a, b, c))); err != nil {
		t.Fatalf("complete: %v", err)
	}
	obs.want(t, 4000, 0, 5000)
}

func TestConfig_SetMD5OnArrival(t *testing.T) {
	for _, tc := range []struct {
		mode              string
		noArrival, noBack bool
	}{
		{"auto", false, true},
		{"on", false, false},
		{"true", false, false},
		{"inline", false, true},
		{"off", true, true},
		{"false", true, true},
	} {
		var c service.Config
		if err := c.SetMD5OnArrival(tc.mode); err != nil {
			t.Fatalf("%s: %v", tc.mode, err)
		}
		if c.NoArrivalMD5 != tc.noArrival || c.NoMD5ReadBack != tc.noBack {
			t.Errorf("%s: NoArrivalMD5 %v, NoMD5ReadBack %v; want %v, %v", tc.mode, c.NoArrivalMD5, c.NoMD5ReadBack, tc.noArrival, tc.noBack)
		}
	}
	if err := new(service.Config).SetMD5OnArrival("sometimes"); err == nil {
		t.Error("an unknown mode was taken")
	}
}
