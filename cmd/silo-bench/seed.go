package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/silo-dev/silo"
)

// project is the project of every request of the run: silo without keys
// takes any bearer token as "default".
const project = "default"

// seedWorkers is how many goroutines seed records straight through a store.
const seedWorkers = 32

// sequentialResult is what a sequential client (one part at a time, as
// openai-python's upload_file_chunked sends them) gets: the complete with md5
// right after the last part, on silo with md5 on arrival and without.
type sequentialResult struct {
	Bytes int64 `json:"bytes"`
	Parts int   `json:"parts"`
	Runs  int   `json:"runs"`
	// Medians: the complete's latency in ms; silo's CPU s per GiB from the
	// first part to the complete's answer; the upload's MB/s; the bytes
	// read back from the blob store (by the chain or the complete) per GiB.
	MD5MS       float64 `json:"md5_complete_ms"`
	CPU         float64 `json:"server_cpu_s_per_gib"`
	MBps        float64 `json:"mbps"`
	ReadBack    float64 `json:"read_back_bytes_per_gib"`
	OffMD5MS    float64 `json:"no_md5_on_arrival_md5_complete_ms"`
	OffCPU      float64 `json:"no_md5_on_arrival_server_cpu_s_per_gib"`
	OffMBps     float64 `json:"no_md5_on_arrival_mbps"`
	OffReadBack float64 `json:"no_md5_on_arrival_read_back_bytes_per_gib"`
}

// sequential uploads the ingest size one part at a time to each silo and
// completes it with md5 in upload order, up to 3 times each.
func (b *bench) sequential(ctx context.Context, rep *report) error {
	n := int(b.cfg.ingestSize / b.cfg.partSize)
	sum := b.data.md5Of(inOrder(n))
	res := &sequentialResult{Bytes: b.cfg.ingestSize, Parts: n, Runs: min(b.cfg.runs, 3)}
	type run struct{ ms, cpu, mbps, back float64 }
	got := map[*child][]run{}
	for r := range res.Runs {
		for _, srv := range []*child{b.silo, b.siloOff} {
			sdk := newSDK(srv.baseURL, b.hc)
			id, err := newUploadOf(ctx, sdk, b.cfg.ingestSize)
			if err != nil {
				return err
			}
			rb0, cb0 := srv.md5Bytes(ctx)
			cpu0 := srv.cpu()
			ids, elapsed, err := sendAll(ctx, n, 1, 0, b.rawPartTo(srv, id))
			if err != nil {
				return err
			}
			start := time.Now()
			u, err := sdk.Uploads.Complete(ctx, id, openai.UploadCompleteParams{PartIDs: ids, Md5: openai.String(sum)})
			d := time.Since(start)
			if err != nil {
				return err
			}
			srv.waitQuiet(ctx)
			cpu1 := srv.cpu()
			rb1, cb1 := srv.md5Bytes(ctx)
			gib := float64(b.cfg.ingestSize) / (1 << 30)
			x := run{ms(d), (cpu1 - cpu0).Seconds() / gib, float64(b.cfg.ingestSize) / 1e6 / elapsed.Seconds(), (rb1 - rb0 + cb1 - cb0) / gib}
			b.logf("sequential run %d %s: complete with md5 %.1f ms; %.0f MB/s; server %.2f CPU s/GiB; read back %.0f MB/GiB",
				r, map[bool]string{true: "md5 on arrival", false: "no md5 on arrival"}[srv == b.silo], x.ms, x.mbps, x.cpu, x.back/1e6)
			got[srv] = append(got[srv], x)
			if _, err := sdk.Files.Delete(ctx, u.File.ID); err != nil {
				return err
			}
			if err := b.settle(ctx); err != nil {
				return err
			}
		}
	}
	med := func(srv *child, f func(run) float64) float64 {
		var s series
		for _, x := range got[srv] {
			s = append(s, f(x))
		}
		return s.median()
	}
	res.MD5MS, res.CPU = med(b.silo, func(x run) float64 { return x.ms }), med(b.silo, func(x run) float64 { return x.cpu })
	res.MBps, res.ReadBack = med(b.silo, func(x run) float64 { return x.mbps }), med(b.silo, func(x run) float64 { return x.back })
	res.OffMD5MS, res.OffCPU = med(b.siloOff, func(x run) float64 { return x.ms }), med(b.siloOff, func(x run) float64 { return x.cpu })
	res.OffMBps, res.OffReadBack = med(b.siloOff, func(x run) float64 { return x.mbps }), med(b.siloOff, func(x run) float64 { return x.back })
	rep.Sequential = res
	return nil
}

// manyPartsResult is the latency of a complete without md5 of an upload of
// many parts.
type manyPartsResult struct {
	Parts int `json:"parts"`
	// Complete latency in ms, and silo's CPU ms for it.
	Latency   series  `json:"complete_ms"`
	ServerCPU float64 `json:"server_cpu_ms"`
	// SeedPerSecond is how fast the parts were recorded straight through
	// the metadata store.
	SeedPerSecond float64 `json:"seed_parts_per_second"`
}

// manyParts records --many-parts parts of one byte for a new upload straight
// through silo's metadata store (no bytes: a complete without md5 reads
// none), completes it through silo, and deletes the File; up to 3 times.
func (b *bench) manyParts(ctx context.Context, rep *report) error {
	meta, err := b.cfg.be.openMeta(ctx, "main", filepath.Join(b.dir, "silo"))
	if err != nil {
		return err
	}
	defer meta.Close()
	res := &manyPartsResult{Parts: b.cfg.manyParts}
	var cpu, seed series
	for r := range min(b.cfg.runs, 3) {
		start := time.Now()
		id, ids, err := seedUpload(ctx, meta, b.cfg.manyParts)
		if err != nil {
			return fmt.Errorf("seeding %d parts: %w", b.cfg.manyParts, err)
		}
		seed = append(seed, float64(len(ids))/time.Since(start).Seconds())
		b.silo.waitQuiet(ctx)
		cpu0 := b.silo.cpu()
		start = time.Now()
		u, err := b.sdk.Uploads.Complete(ctx, id, openai.UploadCompleteParams{PartIDs: ids})
		d := time.Since(start)
		if err != nil {
			return err
		}
		res.Latency = append(res.Latency, ms(d))
		cpu = append(cpu, ms(b.silo.cpu()-cpu0))
		b.logf("complete of %d parts %d: %.1f ms (seeded at %.0f parts/s)", len(ids), r, ms(d), seed[len(seed)-1])
		if _, err := b.sdk.Files.Delete(ctx, u.File.ID); err != nil {
			return err
		}
	}
	res.ServerCPU, res.SeedPerSecond = cpu.median(), seed.median()
	rep.ManyParts = res
	return nil
}

// seedUpload records a pending upload of n parts of one byte, whose blobs
// do not exist, and returns its id and its parts' ids in order.
func seedUpload(ctx context.Context, meta silo.MetaStore, n int) (string, []string, error) {
	now := time.Now()
	u := &silo.Upload{
		ID: silo.NewID(silo.UploadIDPrefix), Project: project, Bytes: int64(n), Filename: "many.bin",
		Purpose: "user_data", MimeType: "application/octet-stream", CreatedAt: now.Unix(),
		ExpiresAt: now.Add(time.Hour).Unix(), Status: silo.StatusPending,
	}
	if err := meta.CreateUpload(ctx, u, silo.Quota{}); err != nil {
		return "", nil, err
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = silo.NewID(silo.PartIDPrefix)
	}
	max := silo.PartLimits{Bytes: u.Bytes + silo.MaxPartBytes, Count: silo.MaxUploadParts}
	err := forEach(ctx, n, func(ctx context.Context, i int) error {
		p := &silo.Part{
			ID: ids[i], UploadID: u.ID, Project: project, Size: 1, CreatedAt: now.Unix(),
			Started: now.UnixNano() + int64(i), BlobKey: "parts/" + ids[i],
		}
		return meta.AddPart(ctx, p, now, max, silo.Quota{})
	})
	return u.ID, ids, err
}

// seedFiles records n files of one byte, whose blobs do not exist.
func seedFiles(ctx context.Context, meta silo.MetaStore, n int, progress func(done int)) error {
	var done atomic.Int64
	return forEach(ctx, n, func(ctx context.Context, i int) error {
		id := silo.NewID(silo.FileIDPrefix)
		f := &silo.File{
			ID: id, Project: project, Bytes: 1, CreatedAt: time.Now().Unix(), Filename: "seed.txt",
			Purpose: "user_data", Blobs: []silo.BlobRef{{Key: "files/" + id, Size: 1}},
		}
		if err := meta.CreateFile(ctx, f, silo.Quota{}); err != nil {
			return err
		}
		if d := done.Add(1); d%100000 == 0 {
			progress(int(d))
		}
		return nil
	})
}

// forEach calls fn for 0..n-1 from seedWorkers goroutines; the first error
// stops it.
func forEach(ctx context.Context, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range seedWorkers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
