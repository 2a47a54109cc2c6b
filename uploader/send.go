package uploader

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// startGap is the pause between the starts of the first parts of an upload
// with MD5.
const startGap = 25 * time.Millisecond

// md5Budget bounds the bytes MD5 holds: the parts read ahead of the one
// being hashed wait in memory, so with many large parts in flight fewer of
// them may run ahead.
const md5Budget = 256 << 20

// md5Window returns how many parts may be in flight with MD5: parallel, but
// no more than fit md5Budget (and at least two, so that sending overlaps).
func md5Window(parallel int, partSize int64) int {
	return min(parallel, max(2, int(md5Budget/max(partSize, 1))))
}

// sendParts sends every part of st not yet acknowledged, at most
// opts.Parallel at a time, and returns the MD5 digest of the source when
// opts.MD5 is set ("" otherwise). Each part is streamed from the source; with
// MD5, parts acknowledged by an earlier run are read for the digest alone.
func (r *run) sendParts(ctx context.Context, st *state) (string, error) {
	n := len(st.Parts)
	skip := r.snapshot(st)
	var md *orderedMD5
	if r.opts.MD5 {
		md = newOrderedMD5(n, func(i int) int64 { _, l := st.partRange(i); return l })
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(r.opts.Parallel, n) {
		wg.Go(func() {
			for i := range jobs {
				if ctx.Err() != nil {
					continue // stopped: drain what the dispatcher still hands out
				}
				if err := r.doPart(ctx, st, i, skip[i] != "", md); err != nil {
					cancel(err)
				}
			}
		})
	}
	started := 0
dispatch:
	for i := range n {
		if skip[i] != "" && md == nil {
			continue
		}
		if md != nil && md.waitWindow(ctx, i, md5Window(r.opts.Parallel, st.PartSize)) != nil {
			break
		}
		// With MD5 the first parts start a little apart, so that the server
		// sees them begin in file order: it hashes parts in the order they
		// began, and a complete listing them in that order finds the digest
		// ready instead of reading the file again. Later parts start as
		// earlier ones end, in order anyway.
		if md != nil && skip[i] == "" && started > 0 && started < r.opts.Parallel {
			select {
			case <-time.After(startGap):
			case <-ctx.Done():
				break dispatch
			}
		}
		if skip[i] == "" {
			started++
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			break dispatch
		}
	}
	close(jobs)
	wg.Wait()
	if ctx.Err() != nil {
		return "", context.Cause(ctx)
	}
	if md == nil {
		return "", nil
	}
	return md.sum()
}

// doPart sends part i, trying again after a failure that may pass. A part
// sent by an earlier run is only read, for the digest, once it is at the
// head so that none of it is kept.
func (r *run) doPart(ctx context.Context, st *state, i int, sent bool, md *orderedMD5) error {
	off, size := st.partRange(i)
	if sent {
		if err := md.waitHead(ctx, i); err != nil {
			return err
		}
		p := &partReader{r: io.NewSectionReader(r.src, off, size), i: i, md: md}
		_, err := io.Copy(io.Discard, p)
		return err
	}
	what := fmt.Sprintf("part %d of %d", i+1, len(st.Parts))
	return r.retry(ctx, what, func() error {
		p := &partReader{r: io.NewSectionReader(r.src, off, size), i: i, md: md, run: r}
		part, err := r.svc.AddPart(ctx, st.UploadID, p)
		if err != nil {
			p.kill()
			if ferr := p.failure(); ferr != nil {
				return permanent{ferr}
			}
			return err
		}
		p.finish()
		r.ack(st, i, part.ID, size)
		return nil
	})
}

// retry calls try until it succeeds, fails for good, or opts.Attempts tries
// were made, waiting longer after each failure.
func (r *run) retry(ctx context.Context, what string, try func() error) error {
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		err := try()
		if err != nil && ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if err == nil || !Retryable(err) || attempt >= r.opts.Attempts {
			return err
		}
		d := r.opts.Backoff(attempt)
		r.notice(err, "%s failed (%v); try %d of %d in %s", what, err, attempt+1, r.opts.Attempts, d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		}
	}
}

// Backoff is the default Options.Backoff: the wait after the attempt-th
// failure is 250ms doubling up to 8s, with up to a quarter more at random so
// that parallel parts do not retry in step.
func Backoff(attempt int) time.Duration {
	d := min(250*time.Millisecond<<min(attempt-1, 5), 8*time.Second)
	return d + rand.N(d/4+1)
}

// snapshot returns a copy of the part ids acknowledged so far.
func (r *run) snapshot(st *state) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(st.Parts)
}

// ack records part i as acknowledged and saves the state at once, so that an
// interruption from here on never sends it again.
func (r *run) ack(st *state, i int, id string, size int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st.Parts[i] = id
	r.sentBytes += size
	r.saveLocked(st)
}

// errFileChanged is a read of the source that ended before the part did.
var errFileChanged = fmt.Errorf("%w: it got shorter", ErrSourceChanged)

// partReader streams one part from the source for one try. It feeds the
// digest and the progress as the HTTP client reads it; kill takes back its
// progress once the try failed, and kill or finish stop its progress, also
// for reads the transport makes late.
type partReader struct {
	r   *io.SectionReader
	i   int
	md  *orderedMD5
	run *run // nil: no progress (a part read for the digest alone)

	mu   sync.Mutex
	off  int64
	dead bool
	err  error
}

func (p *partReader) Read(b []byte) (int, error) {
	p.mu.Lock()
	off := p.off
	p.mu.Unlock()
	n, err := p.r.Read(b)
	if n > 0 && p.md != nil {
		p.md.write(p.i, off, b[:n])
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.off += int64(n)
	if !p.dead && p.run != nil && n > 0 {
		p.run.progress(int64(n))
	}
	if err == io.EOF && p.off < p.r.Size() {
		err = errFileChanged
	}
	if err != nil && err != io.EOF {
		p.err = err
	}
	return n, err
}

// Size is the length of the part, for the request's Content-Length.
func (p *partReader) Size() int64 { return p.r.Size() }

// kill takes back the progress of a failed try and stops it.
func (p *partReader) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.dead && p.run != nil && p.off > 0 {
		p.run.progress(-p.off)
	}
	p.dead = true
}

// finish stops the progress of a try that succeeded.
func (p *partReader) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dead = true
}

// failure returns the error of reading the source, if any.
func (p *partReader) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// progress counts delta more bytes read into part requests.
func (r *run) progress(delta int64) {
	sent := r.sent.Add(delta)
	r.emit(Event{Kind: EventSent, Delta: delta, Sent: sent})
}
