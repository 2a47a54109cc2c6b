package disk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/silo-dev/silo"
)

// Open returns a reader of length bytes of the blob from offset (length below
// 0: to the end); reading stops at the end of the blob, so an offset at or
// past it reads nothing. The reader is also an io.WriterTo, which lets
// io.Copy to an http.ResponseWriter send the bytes with sendfile (net/http
// does so when the response has a Content-Length, not when it is chunked).
// The reader keeps the file open, so it reads the whole range even if the
// blob is deleted meanwhile. EINVALID for a bad key or a negative offset;
// ENOTFOUND.
func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, silo.Errorf(silo.EINVALID, "", "Invalid blob offset %d: expected 0 or more.", offset)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	file, _ := s.path(key)
	f, err := os.Open(file)
	if err != nil {
		return nil, openErr(key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, openErr(key, err)
	}
	start := min(offset, fi.Size())
	n := fi.Size() - start
	if length >= 0 && length < n {
		n = length
	}
	if start > 0 {
		if _, err := f.Seek(start, io.SeekStart); err != nil {
			f.Close()
			return nil, openErr(key, err)
		}
	}
	return &blobReader{f: f, lr: io.LimitedReader{R: f, N: n}}, nil
}

// blobReader reads a range of one blob file, positioned at the range's start.
type blobReader struct {
	f  *os.File
	lr io.LimitedReader // R is f: the shape net/http's sendfile path looks for
}

func (r *blobReader) Read(p []byte) (int, error) { return r.lr.Read(p) }

// WriteTo hands w the *io.LimitedReader of the file, so that a w that is an
// io.ReaderFrom sees the file itself: net/http's ResponseWriter passes it to
// the TCP connection, which sends it with sendfile, and an *os.File copies it
// in the kernel. Other writers get large writes from a pooled buffer.
func (r *blobReader) WriteTo(w io.Writer) (int64, error) {
	if _, ok := w.(io.ReaderFrom); ok {
		return io.Copy(w, &r.lr)
	}
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(w)
	defer func() {
		bw.Reset(nil)
		writers.Put(bw)
	}()
	n, err := bw.ReadFrom(&r.lr)
	if err == nil {
		err = bw.Flush()
	}
	return n, err
}

func (r *blobReader) Close() error { return r.f.Close() }

// Delete removes the blob; a missing key is not an error. The removal is not
// synced to the device: a blob that a crash brings back is referenced by
// nothing, and the orphan sweep deletes it again. EINVALID.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	file, _ := s.path(key)
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("disk: delete %s: %w", key, err)
	}
	s.space.refill() // the space freed may be enough to hold the ballast again
	return nil
}
