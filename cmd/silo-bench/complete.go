package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/openai/openai-go/v3"
)

// completeResult is the complete latency at one upload size.
type completeResult struct {
	Bytes int64 `json:"bytes"`
	Parts int   `json:"parts"`
	// Milliseconds from sending the complete to its answer.
	NoMD5 float64 `json:"no_md5_ms"`
	// MD5InOrder lists the parts in the order the client started them, the
	// first --parallel at once; MD5Staggered starts each part --start-gap
	// after the one before, so that the server sees them begin in that order.
	MD5InOrder   float64 `json:"md5_upload_order_ms"`
	MD5Staggered float64 `json:"md5_upload_order_staggered_ms"`
	MD5Reverse   float64 `json:"md5_reverse_order_ms"`
	// OnePassMS is what one pass of crypto/md5 over the bytes took in this
	// process before the uploads: the floor of a complete that must read
	// every byte again.
	OnePassMS float64 `json:"md5_one_pass_ms"`
}

// completeCase is one way of completing an Upload.
type completeCase struct {
	name    string
	md5     bool
	reverse bool
	stagger bool
}

var completeCases = []completeCase{
	{"no md5", false, false, false},
	{"md5, upload order", true, false, false},
	{"md5, upload order, staggered", true, false, true},
	{"md5, reverse order", true, true, false},
}

// complete measures, at each of --sizes, the latency of a complete without
// md5, with md5 and the parts listed in upload order, and with md5 and the
// parts in reverse order, each on a new Upload sent just before. The File of
// the ingest size completed with md5 in upload order is kept for downloads.
func (b *bench) complete(ctx context.Context, rep *report) error {
	for _, size := range b.cfg.sizes {
		n := int(size / b.cfg.partSize)
		res := &completeResult{Bytes: size, Parts: n}
		// The digests cost a pass each; taken now, they stay out of the timings.
		start := time.Now()
		b.data.md5Pass(n)
		res.OnePassMS = ms(time.Since(start))
		b.data.md5Of(inOrder(n))
		b.data.md5Of(reversed(n))
		b.logf("md5 of %s on the client: %.0f ms per pass (%.0f MB/s)", fmtBytes(size), res.OnePassMS, float64(size)/1e6/(res.OnePassMS/1e3))
		for _, c := range completeCases {
			d, fileID, err := b.completeOne(ctx, n, c)
			if err != nil {
				return fmt.Errorf("%s at %s: %w", c.name, fmtBytes(size), err)
			}
			b.logf("complete %s, %-30s %8.1f ms", fmtBytes(size), c.name, d)
			switch {
			case !c.md5:
				res.NoMD5 = d
			case c.reverse:
				res.MD5Reverse = d
			case c.stagger:
				res.MD5Staggered = d
			default:
				res.MD5InOrder = d
			}
			if c.md5 && !c.reverse && size == b.cfg.ingestSize && b.kept.id == "" {
				b.kept = keptFile{id: fileID, bytes: size, parts: n}
				continue
			}
			if _, err := b.sdk.Files.Delete(ctx, fileID); err != nil {
				return err
			}
			if err := b.settle(ctx); err != nil {
				return err
			}
		}
		rep.Complete = append(rep.Complete, res)
	}
	return nil
}

// completeOne sends an Upload of n parts and completes it as c says; it
// returns the complete's latency in ms and the File's id.
func (b *bench) completeOne(ctx context.Context, n int, c completeCase) (float64, string, error) {
	size := int64(n) * b.cfg.partSize
	id, err := b.newUpload(ctx, size)
	if err != nil {
		return 0, "", err
	}
	var gap time.Duration
	if c.stagger {
		gap = b.cfg.startGap
	}
	ids, _, err := sendAll(ctx, n, b.cfg.parallel, gap, b.rawPart(id))
	if err != nil {
		return 0, "", err
	}
	params := openai.UploadCompleteParams{PartIDs: ids}
	order := inOrder(n)
	if c.reverse {
		params.PartIDs = slices.Clone(ids)
		slices.Reverse(params.PartIDs)
		order = reversed(n)
	}
	if c.md5 {
		params.Md5 = openai.String(b.data.md5Of(order))
	}
	start := time.Now()
	u, err := b.sdk.Uploads.Complete(ctx, id, params)
	d := time.Since(start)
	if err != nil {
		return 0, "", err
	}
	if u.Status != openai.UploadStatusCompleted || u.File.Bytes != size {
		return 0, "", fmt.Errorf("complete answered status %q and a file of %d bytes, want completed and %d", u.Status, u.File.Bytes, size)
	}
	return ms(d), u.File.ID, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
