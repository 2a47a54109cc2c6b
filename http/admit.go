package http

import (
	"context"
	"time"

	"github.com/silo-dev/silo"
)

// DefaultMaxParallelBodies is how many parts and files one server receives at
// once by default. Each holds about 1.3 MB of buffers while it streams (the
// body buffer here and a blob store's write buffer), so this keeps them within
// about 40 MB however many clients send at once.
const DefaultMaxParallelBodies = 32

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
