package main

import (
	"context"
	"time"
)

// s3Parallel is how many parts silo over S3 takes at once by default.
const s3Parallel = 4

// memoryResult is silo's resident memory while --inflight parts are sent at
// once.
type memoryResult struct {
	Parts    int   `json:"parts_in_flight"`
	PartSize int64 `json:"part_size"`
	// Before is silo's RSS when the parts start; Peak its VmHWM once they are
	// all acknowledged, reset just before they started (so it is the peak of
	// this phase), or since the process started when Reset is false.
	Before int64 `json:"rss_before_bytes"`
	Peak   int64 `json:"vmhwm_bytes"`
	Reset  bool  `json:"vmhwm_reset"`
	// MaxSampled is the highest VmRSS seen sampling every 10ms.
	MaxSampled int64   `json:"max_sampled_rss_bytes"`
	MBps       float64 `json:"mbps"`
}

// memory sends --inflight parts of one Upload all at once with the streaming
// client, which holds no part in memory, and reads silo's peak RSS. Over S3
// silo takes s3Parallel parts at once by default (each holds two buffers of
// 8 MiB) and refuses more with 503: then it sends that many.
func (b *bench) memory(ctx context.Context, rep *report) error {
	n := b.cfg.inflight
	if b.cfg.be.blobs != "" {
		n = min(n, s3Parallel)
	}
	res := &memoryResult{Parts: n, PartSize: b.cfg.partSize}
	id, err := b.newUpload(ctx, int64(n)*b.cfg.partSize)
	if err != nil {
		return err
	}
	res.Reset = b.silo.resetPeak() == nil
	res.Before = b.silo.status("VmRSS")
	stop := make(chan struct{})
	sampled := make(chan int64)
	go func() {
		var most int64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			most = max(most, b.silo.status("VmRSS"))
			select {
			case <-stop:
				sampled <- most
				return
			case <-t.C:
			}
		}
	}()
	_, d, err := sendAll(ctx, n, n, 0, b.rawPart(id))
	close(stop)
	res.MaxSampled = <-sampled
	if err != nil {
		return err
	}
	res.Peak = b.silo.peakRSS()
	res.MBps = float64(int64(n)*b.cfg.partSize) / 1e6 / d.Seconds()
	b.logf("%d parts of %s in flight: VmHWM %.1f MB (RSS before %.1f MB, max sampled %.1f MB), %.0f MB/s",
		n, fmtBytes(b.cfg.partSize), mb(res.Peak), mb(res.Before), mb(res.MaxSampled), res.MBps)
	rep.Memory = res
	if _, err := b.sdk.Uploads.Cancel(ctx, id); err != nil {
		return err
	}
	return b.settle(ctx)
}

func mb(n int64) float64 { return float64(n) / 1e6 }
