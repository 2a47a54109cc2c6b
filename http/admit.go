package http

import (
	"context"
	"time"

	"github.com/silo-dev/silo"
)

// bodyMemory is the memory the buffers of parts and files being received may
// hold at once by default: with local disk, each holds the body buffer here
// and a 1 MiB write buffer, so 25 stream at once; over S3, whose buffers are
// 8 MiB, 4 do. Twice that (the garbage collector's headroom) and the rest of
// the server stay well within 150 MB.
const bodyMemory = 32 << 20

// ParallelBodies returns how many parts and files to receive at once by
// default, when a blob store's Put holds storeBuffer bytes (see
// silo.PutBufferer; 0 if it does not say).
func ParallelBodies(storeBuffer int) int {
	return min(max(bodyMemory/(bodyBufferSize+storeBuffer), 4), 64)
}

// bodyWait is how long a part or file waits for its turn before it is told to
// come back later.
const bodyWait = 5 * time.Second

// bodySlots admit the bodies of parts and files: at most cap of them stream at
// once, the others wait up to bodyWait and then get 503 with Retry-After,
// which the SDKs retry.
type bodySlots struct {
	ch   chan struct{}
	wait time.Duration
}

func newBodySlots(n int) bodySlots { return bodySlots{ch: make(chan struct{}, n), wait: bodyWait} }

// acquire waits for a slot; the function it returns gives the slot back.
func (b bodySlots) acquire(ctx context.Context) (func(), error) {
	release := func() { <-b.ch }
	select {
	case b.ch <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(b.wait)
	defer t.Stop()
	select {
	case b.ch <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, silo.Errorf(silo.EUNAVAILABLE, "", "The server is receiving %d parts and files at once, as many as it takes; try again in a moment.", cap(b.ch))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
