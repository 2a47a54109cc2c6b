package service

import (
	"hash"
	"sync"
)

// A hashPipe hashes the bytes written to it on a goroutine of its own, so that
// a part hashed inline is hashed while the request goroutine goes on reading
// the body and writing the blob: on two cores, the md5 of a part sent alone
// no longer halves its rate. The bytes are copied into pooled buffers of
// pipeBufSize, pipeBufs of them per pipe, so a pipe holds at most
// pipeBufs × pipeBufSize bytes however fast the body comes.
type hashPipe struct {
	h    hash.Hash
	cur  []byte      // being filled
	work chan []byte // full buffers, to hash
	free chan []byte // hashed buffers, to fill again
	done chan struct{}
}

const (
	pipeBufSize = 64 << 10
	pipeBufs    = 4
)

var pipeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, pipeBufSize); return &b }}

// newHashPipe starts the goroutine that writes to h; close stops it.
func newHashPipe(h hash.Hash) *hashPipe {
	p := &hashPipe{h: h, work: make(chan []byte, pipeBufs), free: make(chan []byte, pipeBufs), done: make(chan struct{})}
	for range pipeBufs {
		p.free <- (*pipeBuffers.Get().(*[]byte))[:0]
	}
	go func() {
		defer close(p.done)
		for b := range p.work {
			p.h.Write(b)
			p.free <- b[:0]
		}
	}()
	return p
}

// write copies b for hashing, waiting while every buffer is being hashed.
func (p *hashPipe) write(b []byte) {
	for len(b) > 0 {
		if p.cur == nil {
			p.cur = <-p.free
		}
		n := copy(p.cur[len(p.cur):cap(p.cur)], b)
		p.cur = p.cur[:len(p.cur)+n]
		b = b[n:]
		if len(p.cur) == cap(p.cur) {
			p.work <- p.cur
			p.cur = nil
		}
	}
}

// close hashes what is left, waits for the goroutine to end and gives the
// buffers back; h then holds the digest state of every byte written.
func (p *hashPipe) close() {
	if len(p.cur) > 0 {
		p.work <- p.cur
	} else if p.cur != nil {
		p.free <- p.cur
	}
	p.cur = nil
	close(p.work)
	<-p.done
	for range pipeBufs {
		b := <-p.free
		pipeBuffers.Put(&b)
	}
}
