package service

import (
	"context"
	"crypto/md5"
	"encoding"
	"encoding/hex"
	"hash"
	"io"
	"slices"
	"sync"

	"github.com/silo-dev/silo"
)

// chains hash each pending Upload's parts as they arrive, chained in the order
// the parts were started, so that a complete with md5 and the parts listed in
// that order finds the digest ready instead of reading every byte again. A
// part that is next in its chain when it starts (the parts started before it
// are hashed) is hashed inline, as its bytes stream into the blob store; a
// part that overtook the chain (it started while an earlier one was still
// arriving or being hashed) is read back from the blob store once the chain
// reaches it. The chains live in this process only; a complete that finds no
// usable chain (on another instance, after a restart, or with the parts in
// another order) makes one sequential pass over the bytes it lacks.
type chains struct {
	off      bool // Config.NoArrivalMD5: no chains, every md5 complete reads the bytes
	readBack bool // parts that overtook the chain are read back (not Config.NoMD5ReadBack)
	mu       sync.Mutex
	m        map[string]*chain
}

// chain is the running digest of one Upload's parts.
type chain struct {
	mu       sync.Mutex
	idle     *sync.Cond
	expires  int64
	inflight map[string]*silo.Part // parts being received, not yet recorded
	ready    []*silo.Part          // recorded, not yet hashed, in (Started, ID) order
	ids      []string              // hashed parts, in chain order
	states   [][]byte              // states[i]: the md5 state after ids[:i+1]
	h        hash.Hash
	busy     bool // a worker is reading ready parts back to hash them
	broken   bool
	inline   *inlineHash // the part being hashed as it arrives, if any
}

// inlineHash hashes one part's bytes as the blob store reads them from the
// request, continuing the chain's state as it was when the part started. Its
// result joins the chain only if, once the part is stored and recorded, the
// chain is still where it was then and the bytes hashed are the bytes stored.
type inlineHash struct {
	c    *chain
	base int // len(c.ids) when the part started
	h    hash.Hash
	n    int64
	r    io.Reader
}

func (ih *inlineHash) Read(p []byte) (int, error) {
	n, err := ih.r.Read(p)
	ih.h.Write(p[:n])
	ih.n += int64(n)
	return n, err
}

func newChains(off, readBack bool) *chains {
	return &chains{off: off, readBack: readBack, m: make(map[string]*chain)}
}

func (cs *chains) get(u *silo.Upload, create bool) *chain {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.m[u.ID]
	if c == nil && create {
		c = &chain{expires: u.ExpiresAt, inflight: make(map[string]*silo.Part), h: md5.New()}
		c.idle = sync.NewCond(&c.mu)
		cs.m[u.ID] = c
	}
	return c
}

// forget drops the chain of an Upload that left pending; its worker stops
// after the part it is hashing.
func (cs *chains) forget(uploadID string) {
	cs.mu.Lock()
	c := cs.m[uploadID]
	delete(cs.m, uploadID)
	cs.mu.Unlock()
	if c != nil {
		c.mu.Lock()
		c.broken = true
		c.mu.Unlock()
	}
}

// prune drops the chains of Uploads expired at now (Unix seconds).
func (cs *chains) prune(now int64) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for id, c := range cs.m {
		if c.expires <= now {
			delete(cs.m, id)
		}
	}
}

// started notes that p began arriving: no later part is hashed before it. If
// p is next in the chain, it returns an inlineHash for p's bytes to be read
// through (see added); else nil, and p will be read back once stored.
func (cs *chains) started(u *silo.Upload, p *silo.Part) *inlineHash {
	if cs.off {
		return nil
	}
	c := cs.get(u, true)
	c.mu.Lock()
	defer c.mu.Unlock()
	next := !c.broken && !c.busy && c.inline == nil && len(c.ready) == 0
	for _, q := range c.inflight {
		if partOrder(q, p) < 0 {
			next = false
		}
	}
	c.inflight[p.ID] = p
	if !next {
		return nil
	}
	ih := &inlineHash{c: c, base: len(c.ids), h: md5.New()}
	if ih.base > 0 {
		if err := ih.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(c.states[ih.base-1]); err != nil {
			return nil
		}
	}
	c.inline = ih
	return ih
}

// reader returns data read through ih, or data itself if ih is nil.
func (ih *inlineHash) reader(data io.Reader) io.Reader {
	if ih == nil {
		return data
	}
	ih.r = data
	return ih
}

// failed notes that p will not be recorded, and lets the chain go on without it.
func (cs *chains) failed(s *Service, u *silo.Upload, p *silo.Part, ih *inlineHash) {
	c := cs.get(u, false)
	if ih != nil {
		c = ih.c
	}
	if c != nil {
		c.mu.Lock()
		delete(c.inflight, p.ID)
		if ih != nil && c.inline == ih {
			c.inline = nil
		}
		c.mu.Unlock()
		c.advance(s)
	}
}

// added notes that p is recorded and hashes whatever can now be hashed: p
// itself by its inline hash if that still continues the chain, else by
// reading it back when the chain reaches it.
func (cs *chains) added(s *Service, u *silo.Upload, p *silo.Part, ih *inlineHash) {
	if cs.off {
		return
	}
	c := cs.get(u, true)
	if ih != nil {
		c = ih.c
	}
	c.mu.Lock()
	delete(c.inflight, p.ID)
	if ih != nil && c.inline == ih {
		c.inline = nil
		if c.takeInline(ih, p) {
			c.mu.Unlock()
			s.observe(Event{Kind: MD5OnArrival, Bytes: p.Size})
			c.advance(s)
			return
		}
	}
	i, _ := slices.BinarySearchFunc(c.ready, p, partOrder)
	c.ready = slices.Insert(c.ready, i, p)
	c.mu.Unlock()
	c.advance(s)
}

// takeInline appends p, hashed inline by ih, to the chain if the chain has
// not moved since p started (no worker hashed a part meanwhile, nothing ready
// comes before p) and ih hashed exactly the bytes stored. c.mu is held.
func (c *chain) takeInline(ih *inlineHash, p *silo.Part) bool {
	if c.broken || c.busy || len(c.ids) != ih.base || ih.n != p.Size {
		return false
	}
	if len(c.ready) > 0 && partOrder(c.ready[0], p) < 0 {
		return false
	}
	state, err := ih.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return false
	}
	c.h = ih.h
	c.ids = append(c.ids, p.ID)
	c.states = append(c.states, state)
	c.idle.Broadcast()
	return true
}

func partOrder(a, b *silo.Part) int {
	if a.Started != b.Started {
		if a.Started < b.Started {
			return -1
		}
		return 1
	}
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

// next returns the part to hash next: the first ready one, unless a part that
// started before it is still arriving.
func (c *chain) next() *silo.Part {
	if c.broken || len(c.ready) == 0 {
		return nil
	}
	head := c.ready[0]
	for _, p := range c.inflight {
		if partOrder(p, head) < 0 {
			return nil
		}
	}
	return head
}

// advance starts a worker that hashes ready parts in order, unless one runs
// or parts are not read back (then the chain ends at the first ready part:
// no part after it is next in the chain either).
func (c *chain) advance(s *Service) {
	if !s.md5.readBack {
		return
	}
	c.mu.Lock()
	if c.busy || c.next() == nil {
		c.mu.Unlock()
		return
	}
	c.busy = true
	c.mu.Unlock()
	if !s.life.goBackground(func(ctx context.Context) { c.work(ctx, s) }) {
		c.mu.Lock()
		c.busy = false // closed: completes read the bytes themselves
		c.idle.Broadcast()
		c.mu.Unlock()
	}
}

// work hashes ready parts until none is, or ctx (the Service's life) ends.
func (c *chain) work(ctx context.Context, s *Service) {
	buf := make([]byte, 256<<10)
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := c.next(); p != nil; p = c.next() {
		c.mu.Unlock()
		err := hashBlob(ctx, s.blobs, c.h, p, buf)
		var state []byte
		if err == nil {
			s.observe(Event{Kind: MD5ReadBack, Bytes: p.Size})
			state, err = c.h.(encoding.BinaryMarshaler).MarshalBinary()
		}
		c.mu.Lock()
		// A part that started earlier may have been inserted before p meanwhile;
		// the chain records the order it really hashed.
		c.ready = slices.DeleteFunc(c.ready, func(q *silo.Part) bool { return q == p })
		if err != nil {
			c.broken = true // completion falls back to reading the bytes
			break
		}
		c.ids = append(c.ids, p.ID)
		c.states = append(c.states, state)
		c.idle.Broadcast() // a complete may be waiting for just this part
	}
	c.busy = false
	c.idle.Broadcast()
}

func hashBlob(ctx context.Context, blobs silo.BlobStore, h hash.Hash, p *silo.Part, buf []byte) error {
	rc, err := blobs.Open(ctx, p.BlobKey, 0, -1)
	if err != nil {
		return err
	}
	defer rc.Close()
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err // the Service is closing: stop between reads
		}
		m, err := rc.Read(buf)
		h.Write(buf[:m])
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if n != p.Size {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// prefix returns how many of the first partIDs the chain has hashed, in that
// order, with the md5 state after them. While the worker is busy and what it
// hashed so far is the start of partIDs, it waits for more; once the chain
// has gone another way, waiting would only delay the complete's own pass.
func (c *chain) prefix(ctx context.Context, partIDs []string) (int, []byte) {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.idle.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for {
		for n < len(partIDs) && n < len(c.ids) && c.ids[n] == partIDs[n] {
			n++
		}
		if !c.busy || n < len(c.ids) || n == len(partIDs) || ctx.Err() != nil {
			break
		}
		c.idle.Wait()
	}
	if n == 0 {
		return 0, nil
	}
	return n, c.states[n-1]
}

// digest returns the hex md5 of the listed parts' bytes: from the chain's state
// as far as the chain matches the list, then by reading the rest in order.
// A digest computed once is remembered while u is pending.
func (s *Service) digest(ctx context.Context, u *silo.Upload, partIDs []string, blobs []silo.BlobRef) (string, error) {
	if sum, ok := s.sums.get(u, partIDs); ok {
		return sum, nil
	}
	h := md5.New()
	start := 0
	if c := s.md5.get(u, false); c != nil {
		if n, state := c.prefix(ctx, partIDs); n > 0 {
			if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
				return "", err
			}
			start = n
		}
	}
	if start < len(blobs) {
		rd := newBlobsReader(ctx, s.blobs, blobs[start:], 0, -1)
		defer rd.Close()
		n, err := io.CopyBuffer(h, rd, make([]byte, 1<<20))
		s.observe(Event{Kind: MD5OnComplete, Bytes: n})
		if err != nil {
			return "", err
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	s.sums.put(u, partIDs, sum)
	return sum, nil
}
