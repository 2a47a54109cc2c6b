package service_test

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/inmem"
)

// readCounter counts the bytes read from a blob store for requests whose
// context is marked (markKey): the background hashing of parts is not counted.
type readCounter struct {
	*inmem.BlobStore
	read atomic.Int64
}

func (c *readCounter) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := c.BlobStore.Open(ctx, key, off, n)
	if err != nil || ctx.Value(markKey{}) == nil {
		return rc, err
	}
	return countingReadCloser{rc, &c.read}, nil
}

type countingReadCloser struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingReadCloser) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// A complete with a wrong md5 leaves the Upload pending; repeating it with the
// same part list must not read the bytes again, whatever the client sends.
func TestCompleteUpload_WrongMD5CostsOnePassPerList(t *testing.T) {
	blobs := &readCounter{BlobStore: inmem.NewBlobStore()}
	f := newFixtureOn(t, blobs)
	ctx := context.WithValue(f.ctx, markKey{}, true)
	data := randBytes(4<<20, 9)
	u := f.upload(t, int64(len(data)))
	var ids []string
	for i := 0; i < 4; i++ {
		ids = append(ids, f.part(t, u.ID, data[i<<20:(i+1)<<20]).ID)
	}
	reversed := []string{ids[3], ids[2], ids[1], ids[0]}
	wrong := md5hex([]byte("not these bytes"))
	for i := 0; i < 5; i++ {
		_, err := f.svc.CompleteUpload(ctx, u.ID, reversed, wrong)
		wantCode(t, err, silo.EMD5MISMATCH, "md5")
	}
	if got := blobs.read.Load(); got > int64(len(data)) {
		t.Errorf("five completes of one part list read %d bytes, want at most one pass (%d)", got, len(data))
	}
	// Another list is another pass, and the right md5 still completes.
	other := []string{ids[1], ids[0], ids[3], ids[2]}
	_, err := f.svc.CompleteUpload(ctx, u.ID, other, wrong)
	wantCode(t, err, silo.EMD5MISMATCH, "md5")
	var want bytes.Buffer
	for _, i := range []int{3, 2, 1, 0} {
		want.Write(data[i<<20 : (i+1)<<20])
	}
	done, err := f.svc.CompleteUpload(ctx, u.ID, reversed, md5hex(want.Bytes()))
	if err != nil || done.Status != silo.StatusCompleted {
		t.Fatalf("complete with the right md5: %v", err)
	}
	if got := blobs.read.Load(); got > 2*int64(len(data)) {
		t.Errorf("read %d bytes for two part lists, want at most two passes (%d)", got, 2*len(data))
	}
}

// A part whose client left before its record was begun leaves no blob.
func TestAddPart_ClientGoneLeavesNoBlob(t *testing.T) {
	f := newFixture(t)
	u := f.upload(t, 10)
	ctx, cancel := context.WithCancel(f.ctx)
	// The body ends and the client leaves at once, before the record.
	r := &cancelAtEOF{r: bytes.NewReader([]byte("0123456789")), cancel: cancel}
	if _, err := f.svc.AddPart(ctx, u.ID, r); err == nil {
		t.Fatal("AddPart succeeded for a client that left")
	}
	n := 0
	f.blobs.List(context.Background(), func(string, time.Time) error { n++; return nil })
	if n != 0 {
		t.Errorf("blobs left: got %d, want 0", n)
	}
}

// cancelAtEOF cancels a context when its reader ends.
type cancelAtEOF struct {
	r      io.Reader
	cancel func()
}

func (c *cancelAtEOF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.cancel()
	}
	return n, err
}

func TestCreateFile_FilenameLimit(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.CreateFile(f.ctx, &silo.FileCreate{Filename: string(make([]byte, silo.MaxFilenameBytes+1)), Purpose: "user_data", Data: failingReader{t}})
	wantCode(t, err, silo.EINVALID, "file")
}

// failingReader fails the test if it is read.
type failingReader struct{ t *testing.T }

func (f failingReader) Read([]byte) (int, error) {
	f.t.Error("the body was read")
	return 0, io.EOF
}
