package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	shttp "github.com/silo-dev/silo/http"
)

// startGap is the pause between the starts of the first parts of an upload
// with --md5.
const startGap = 25 * time.Millisecond

// md5Budget bounds the bytes --md5 holds: the parts read ahead of the one
// being hashed wait in memory, so with many large parts in flight fewer of
// them may run ahead.
const md5Budget = 256 << 20

// md5Window returns how many parts may be in flight with --md5: parallel, but
// no more than fit md5Budget (and at least two, so that sending overlaps).
func md5Window(parallel int, partSize int64) int {
	return min(parallel, max(2, int(md5Budget/max(partSize, 1))))
}

// sendParts sends every part of st not yet acknowledged, at most
// opts.parallel at a time, and returns the MD5 digest of the file when --md5
// was given ("" otherwise). Each part is streamed from the file; with --md5,
// parts acknowledged by an earlier run are read for the digest alone.
func (u *uploader) sendParts(ctx context.Context, st *uploadState) (string, error) {
	n := len(st.Parts)
	skip := u.snapshot(st)
	var md *orderedMD5
	if u.opts.md5 {
		md = newOrderedMD5(n, func(i int) int64 { _, l := st.partRange(i); return l })
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range u.opts.parallel {
		wg.Go(func() {
			for i := range jobs {
				if err := u.doPart(ctx, st, i, skip[i] != "", md); err != nil {
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
		if md != nil && md.waitWindow(ctx, i, md5Window(u.opts.parallel, st.PartSize)) != nil {
			break
		}
		// With --md5 the first parts start a little apart, so that the server
		// sees them begin in file order: it hashes parts in the order they
		// began, and a complete listing them in that order finds the digest
		// ready instead of reading the file again. Later parts start as
		// earlier ones end, in order anyway.
		if md != nil && skip[i] == "" && started > 0 && started < u.opts.parallel {
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
func (u *uploader) doPart(ctx context.Context, st *uploadState, i int, sent bool, md *orderedMD5) error {
	off, size := st.partRange(i)
	if sent {
		if err := md.waitHead(ctx, i); err != nil {
			return err
		}
		r := &partReader{r: io.NewSectionReader(u.f, off, size), i: i, md: md}
		_, err := io.Copy(io.Discard, r)
		return err
	}
	what := fmt.Sprintf("part %d of %d", i+1, len(st.Parts))
	return u.retry(ctx, what, func() error {
		r := &partReader{r: io.NewSectionReader(u.f, off, size), i: i, md: md, prog: u.prog}
		p, err := u.svc.AddPart(ctx, st.UploadID, r)
		if err != nil {
			r.kill()
			if ferr := r.failure(); ferr != nil {
				return permanent{ferr}
			}
			return err
		}
		u.ack(st, i, p.ID)
		return nil
	})
}

// retry calls try until it succeeds, fails for good, or opts.attempts tries
// were made, waiting longer after each failure.
func (u *uploader) retry(ctx context.Context, what string, try func() error) error {
	for attempt := 1; ; attempt++ {
		err := try()
		if err != nil && ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if err == nil || !retryable(err) || attempt >= u.opts.attempts {
			return err
		}
		d := backoff(attempt)
		u.prog.logf("%s failed (%v); try %d of %d in %s", what, err, attempt+1, u.opts.attempts, d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		}
	}
}

// backoff is the wait after the attempt-th failure: 250ms doubling up to 8s,
// with up to a quarter more at random so parallel parts do not retry in step.
func backoff(attempt int) time.Duration {
	d := min(250*time.Millisecond<<min(attempt-1, 5), 8*time.Second)
	return d + rand.N(d/4+1)
}

// permanent marks an error that trying again cannot mend.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// retryable reports whether a failed request may succeed when sent again:
// a network failure, or an answer the server did not mark final and whose
// status the official SDKs retry (408, 409, 429, 5xx). API errors about the
// request or the Upload are final.
func retryable(err error) bool {
	if errors.As(err, new(permanent)) {
		return false
	}
	var re *shttp.ResponseError
	if errors.As(err, &re) {
		return re.Retryable()
	}
	return true // no answer: the network failed
}

// snapshot returns a copy of the part ids acknowledged so far.
func (u *uploader) snapshot(st *uploadState) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(st.Parts)
}

// ack records part i as acknowledged and saves the state at once, so that an
// interruption from here on never sends it again.
func (u *uploader) ack(st *uploadState, i int, id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	st.Parts[i] = id
	u.saveLocked(st)
}

// errFileChanged is a read of the file that ended before the part did.
var errFileChanged = errors.New("the file got shorter while it was being sent")

// partReader streams one part from the file for one try. It feeds the
// digest and the progress as the HTTP client reads it; kill takes back its
// progress once the try failed, also for reads the transport makes late.
type partReader struct {
	r    *io.SectionReader
	i    int
	md   *orderedMD5
	prog *progress

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
	if !p.dead && p.prog != nil {
		p.prog.add(int64(n))
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

func (p *partReader) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.dead && p.prog != nil {
		p.prog.add(-p.off)
	}
	p.dead = true
}

// failure returns the error of reading the file, if any.
func (p *partReader) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
