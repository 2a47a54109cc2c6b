package service_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/service"
)

// clock is a settable clock for expiry tests that do not sleep.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// ids makes predictable ids: prefix + a counter.
type ids struct {
	mu sync.Mutex
	n  int
}

func (g *ids) New(prefix string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return fmt.Sprintf("%s%04d", prefix, g.n)
}

var t0 = time.Unix(1_800_000_000, 0)

type fixture struct {
	svc   *service.Service
	meta  *inmem.MetaStore
	blobs *inmem.BlobStore
	clock *clock
	ctx   context.Context // project "p1"
	other context.Context // project "p2"
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, inmem.NewBlobStore())
}

// newFixtureOn is a fixture whose service stores bytes in blobs.
func newFixtureOn(t *testing.T, blobs silo.BlobStore) *fixture {
	t.Helper()
	f := &fixture{meta: inmem.NewMetaStore(), clock: &clock{t: t0}}
	f.blobs, _ = blobs.(*inmem.BlobStore)
	f.svc = service.New(f.meta, blobs, service.Config{Now: f.clock.Now, NewID: (&ids{}).New})
	f.ctx = silo.WithProject(context.Background(), "p1")
	f.other = silo.WithProject(context.Background(), "p2")
	return f
}

// reap runs one round of the reaper.
func (f *fixture) reap() (service.ReapStats, error) {
	return f.svc.Reap(f.ctx)
}

func (f *fixture) upload(t *testing.T, size int64) *silo.Upload {
	t.Helper()
	u, err := f.svc.CreateUpload(f.ctx, &silo.UploadCreate{Filename: "data.jsonl", Purpose: "batch", Bytes: size, MimeType: "text/jsonl"})
	if err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	return u
}

func (f *fixture) part(t *testing.T, uploadID string, data []byte) *silo.Part {
	t.Helper()
	p, err := f.svc.AddPart(f.ctx, uploadID, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("AddPart: %v", err)
	}
	return p
}

func (f *fixture) content(t *testing.T, fileID string, off, n int64) []byte {
	t.Helper()
	_, rc, err := f.svc.OpenFile(f.ctx, fileID, off, n)
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading file: %v", err)
	}
	return b
}

// wantCode fails unless err is a *silo.Error with the code and param.
func wantCode(t *testing.T, err error, code, param string) {
	t.Helper()
	var e *silo.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want *silo.Error %s", err, code)
	}
	if e.Code != code || e.Param != param {
		t.Fatalf("got code %q param %q (%s), want code %q param %q", e.Code, e.Param, e.Message, code, param)
	}
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func randBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

// discardBlobs is a blob store that keeps no bytes, only the keys it was given
// whole: for tests of size limits, which must not hold hundreds of MiB.
type discardBlobs struct {
	mu   sync.Mutex
	keys map[string]bool
}

func (d *discardBlobs) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	n, err := io.CopyBuffer(io.Discard, r, make([]byte, 1<<20))
	if err != nil {
		return n, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.keys == nil {
		d.keys = map[string]bool{}
	}
	d.keys[key] = true
	return n, nil
}

func (d *discardBlobs) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	return nil, silo.Errorf(silo.ENOTFOUND, "", "no bytes kept")
}

func (d *discardBlobs) Delete(ctx context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.keys, key)
	return nil
}

func (d *discardBlobs) Close() error { return nil }

func (d *discardBlobs) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.keys)
}
