package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
)

// prefixLen is the length of the header that makes each part's bytes unique.
const prefixLen = 16

// payload makes the bytes of parts from one random buffer of a part's size:
// part i is a 16-byte header naming i followed by the buffer's rest. So every
// part differs (a digest over parts in the wrong order does not match), and
// the client holds one part's worth of bytes however many parts it sends.
type payload struct {
	base []byte

	mu   sync.Mutex
	sums map[string]string // memoized digests, by parts and order
}

func newPayload(partSize int64) *payload {
	b := make([]byte, partSize)
	rng := rand.NewChaCha8([32]byte{'s', 'i', 'l', 'o'})
	rng.Read(b) // incompressible, in case anything on the path compresses
	return &payload{base: b, sums: make(map[string]string)}
}

func (p *payload) size() int64 { return int64(len(p.base)) }

func (p *payload) prefix(i int) []byte {
	return fmt.Appendf(nil, "part%011d\n", i)[:prefixLen]
}

// part returns a reader of part i's bytes that reads the shared buffer.
func (p *payload) part(i int) io.Reader {
	return io.MultiReader(bytes.NewReader(p.prefix(i)), bytes.NewReader(p.base[prefixLen:]))
}

// md5Of returns the hex MD5 of parts laid out in order (order[k] is the part
// at position k). It costs one pass over the bytes, so the benchmark computes
// it before the timed request, and only once per layout.
func (p *payload) md5Of(order []int) string {
	key := fmt.Sprint(order)
	p.mu.Lock()
	sum, ok := p.sums[key]
	p.mu.Unlock()
	if ok {
		return sum
	}
	h := md5.New()
	for _, i := range order {
		h.Write(p.prefix(i))
		h.Write(p.base[prefixLen:])
	}
	sum = hex.EncodeToString(h.Sum(nil))
	p.mu.Lock()
	p.sums[key] = sum
	p.mu.Unlock()
	return sum
}

// md5Pass hashes n parts' bytes, unmemoized: the time of one md5 pass.
func (p *payload) md5Pass(n int) {
	h := md5.New()
	for i := range n {
		h.Write(p.prefix(i))
		h.Write(p.base[prefixLen:])
	}
	h.Sum(nil)
}

// inOrder returns 0..n-1; reversed returns n-1..0.
func inOrder(n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = i
	}
	return o
}

func reversed(n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = n - 1 - i
	}
	return o
}
