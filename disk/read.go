package disk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"

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
// in the kernel. Other writers — an md5 hash — are given the bytes where they
// are in the page cache, through a read-only mapping of the file, and are
// written mapWindow at a time; where the kernel will not map the file, they
// get large writes from a pooled buffer.
func (r *blobReader) WriteTo(w io.Writer) (int64, error) {
	if _, ok := w.(io.ReaderFrom); ok {
		return io.Copy(w, &r.lr)
	}
	n, err := r.writeMapped(w)
	if err != errNotMapped {
		return n, err
	}
	m, err := r.writeCopied(w)
	return n + m, err
}

// mapWindow is how much of a file writeMapped maps at once, and mapWrite
// how much it writes at once, so that a writer that checks a context
// between writes stops soon.
const (
	mapWindow = 16 << 20
	mapWrite  = 1 << 20
)

// errNotMapped is writeMapped's answer when the kernel will not map the
// file: the rest of the range is left to copy.
var errNotMapped = errors.New("disk: not mapped")

// writeMapped writes the rest of the range to w from mappings of the file.
// The file's offset follows the bytes written. A blob file is never changed
// once stored, but should one be cut short underneath (by hand), reading
// past its end fails with an error instead of crashing the server.
func (r *blobReader) writeMapped(w io.Writer) (int64, error) {
	pos, err := r.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, errNotMapped
	}
	page := int64(os.Getpagesize())
	var n int64
	defer func() { r.f.Seek(pos, io.SeekStart) }()
	for r.lr.N > 0 {
		base := pos &^ (page - 1)
		size := min(pos-base+r.lr.N, mapWindow)
		b, err := mapFile(r.f, base, int(size))
		if err != nil {
			return n, errNotMapped
		}
		m, err := writeFaultSafe(w, b[pos-base:])
		unmapFile(b)
		n += int64(m)
		pos += int64(m)
		r.lr.N -= int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// writeFaultSafe writes b to w mapWrite at a time. b is mapped from a file:
// a fault reading it (the file cut short) is an error, not a crash.
func writeFaultSafe(w io.Writer, b []byte) (n int, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("disk: blob file changed while read: %v", p)
		}
	}()
	for n < len(b) {
		m, err := w.Write(b[n:min(n+mapWrite, len(b))])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// writeCopied writes the rest of the range to w through a pooled buffer.
func (r *blobReader) writeCopied(w io.Writer) (int64, error) {
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
