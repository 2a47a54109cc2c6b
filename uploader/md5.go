package uploader

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"sync"
)

// orderedMD5 computes the MD5 digest of a file from the bytes its parts'
// senders read anyway, so the file is read once for both. Parts are read in
// parallel but MD5 needs the bytes in order: the part at the head is hashed
// as its bytes come; bytes of later parts are kept until the head reaches
// them. Kept bytes are bounded by the window the dispatcher waits for
// (waitWindow), at most the parts in flight.
type orderedMD5 struct {
	mu      sync.Mutex
	h       hash.Hash
	size    func(i int) int64
	n       int
	head    int            // the part being hashed; n when all are
	done    int64          // bytes of the head part hashed
	pending map[int][]byte // the first bytes of parts after the head
	free    [][]byte       // buffers of pending parts hashed since, for reuse
	moved   chan struct{}  // closed and replaced when the head moves
}

func newOrderedMD5(n int, size func(i int) int64) *orderedMD5 {
	o := &orderedMD5{h: md5.New(), size: size, n: n, pending: map[int][]byte{}, moved: make(chan struct{})}
	o.advance()
	return o
}

// write takes bytes p read at offset off of part i. Readers read a part from
// its start, perhaps more than once (a retried part); bytes already taken are
// ignored, so each byte is hashed once.
func (o *orderedMD5) write(i int, off int64, p []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	end := off + int64(len(p))
	switch {
	case i < o.head:
	case i == o.head:
		if off <= o.done && end > o.done {
			o.h.Write(p[o.done-off:])
			o.done = end
			o.advance()
		}
	default:
		b, ok := o.pending[i]
		if !ok {
			b = o.buffer(o.size(i))
		}
		if have := int64(len(b)); off <= have && end > have {
			o.pending[i] = append(b, p[have-off:]...)
		}
	}
}

// advance moves the head past every part hashed in full, hashing the bytes
// kept for the next one.
func (o *orderedMD5) advance() {
	moved := false
	for o.head < o.n && o.done == o.size(o.head) {
		o.head++
		moved = true
		b, ok := o.pending[o.head]
		delete(o.pending, o.head)
		o.h.Write(b)
		o.done = int64(len(b))
		if ok {
			o.free = append(o.free, b[:0])
		}
	}
	if moved {
		close(o.moved)
		o.moved = make(chan struct{})
	}
}

// buffer returns an empty buffer for n bytes, reusing a free one if it can,
// so that the buffers of a long file are a few allocations, not one per part.
func (o *orderedMD5) buffer(n int64) []byte {
	for len(o.free) > 0 {
		b := o.free[len(o.free)-1]
		o.free = o.free[:len(o.free)-1]
		if int64(cap(b)) >= n {
			return b
		}
	}
	return make([]byte, 0, n)
}

// waitHead returns when part i is at the head, so that reading it hashes its
// bytes at once and keeps none; or when ctx ends.
func (o *orderedMD5) waitHead(ctx context.Context, i int) error {
	return o.waitAhead(ctx, i, 1)
}

// waitWindow returns when part i is fewer than window parts ahead of the
// head, or when ctx ends.
func (o *orderedMD5) waitWindow(ctx context.Context, i, window int) error {
	return o.waitAhead(ctx, i, window)
}

func (o *orderedMD5) waitAhead(ctx context.Context, i, window int) error {
	for {
		o.mu.Lock()
		ahead, moved := i-o.head, o.moved
		o.mu.Unlock()
		if ahead < window {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// sum returns the digest in hex once every part has been hashed.
func (o *orderedMD5) sum() (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.head != o.n {
		return "", fmt.Errorf("md5: part %d of %d was not read in full", o.head+1, o.n)
	}
	return hex.EncodeToString(o.h.Sum(nil)), nil
}
