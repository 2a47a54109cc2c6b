package service

import (
	"context"
	"io"

	"github.com/silo-dev/silo"
)

// blobsReader reads a range of the concatenation of blobs, opening each blob
// only when the read reaches it. It is how a File made of parts is read
// without ever having been copied into one blob.
type blobsReader struct {
	ctx   context.Context
	store silo.BlobStore
	segs  []segment
	cur   io.ReadCloser
	left  int64 // bytes still expected from cur
}

// segment is a range of one blob.
type segment struct {
	key         string
	off, length int64
}

// newBlobsReader returns a reader of length bytes from offset of the blobs laid
// end to end (length below 0: to the end).
func newBlobsReader(ctx context.Context, store silo.BlobStore, blobs []silo.BlobRef, offset, length int64) *blobsReader {
	r := &blobsReader{ctx: ctx, store: store}
	for _, b := range blobs {
		if length == 0 {
			break
		}
		if offset >= b.Size {
			offset -= b.Size
			continue
		}
		n := b.Size - offset
		if length > 0 && n > length {
			n = length
		}
		if n > 0 {
			r.segs = append(r.segs, segment{b.Key, offset, n})
		}
		if length > 0 {
			length -= n
		}
		offset = 0
	}
	return r
}

// open opens the next segment; io.EOF when none is left.
func (r *blobsReader) open() error {
	if len(r.segs) == 0 {
		return io.EOF
	}
	s := r.segs[0]
	r.segs = r.segs[1:]
	rc, err := r.store.Open(r.ctx, s.key, s.off, s.length)
	if err != nil {
		return err
	}
	r.cur, r.left = rc, s.length
	return nil
}

// endSegment closes the current segment and fails if it was shorter than its
// record says: a File never silently loses bytes.
func (r *blobsReader) endSegment() error {
	err := r.cur.Close()
	r.cur = nil
	if r.left != 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Read implements io.Reader.
func (r *blobsReader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			if err := r.open(); err != nil {
				return 0, err
			}
		}
		if int64(len(p)) > r.left {
			p = p[:r.left]
		}
		n, err := r.cur.Read(p)
		r.left -= int64(n)
		if err == io.EOF || (err == nil && r.left == 0) {
			if err := r.endSegment(); err != nil {
				return n, err
			}
			err = nil
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
}

// WriteTo copies each segment with io.Copy, so that a blob reader that knows a
// faster way to w (a disk file into a socket: sendfile) gets to use it.
func (r *blobsReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if r.cur == nil {
			if err := r.open(); err == io.EOF {
				return total, nil
			} else if err != nil {
				return total, err
			}
		}
		// The blob reader yields exactly its range; wrapping it would hide its
		// WriteTo.
		n, err := io.Copy(w, r.cur)
		total += n
		r.left -= n
		if err != nil {
			return total, err
		}
		if err := r.endSegment(); err != nil {
			return total, err
		}
	}
}

// Close releases the blob being read, if any.
func (r *blobsReader) Close() error {
	if r.cur == nil {
		return nil
	}
	err := r.cur.Close()
	r.cur = nil
	return err
}
