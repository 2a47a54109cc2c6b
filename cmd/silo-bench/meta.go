package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/silo-dev/silo/internal/procstat"
)

// maxCreates bounds the creates loop whatever --create-time says.
const maxCreates = 1_000_000

// createsResult is the rate of durable creates (POST /uploads: silo answers
// once the record is committed) from --clients concurrent SDK clients.
type createsResult struct {
	Clients   int       `json:"clients"`
	Count     int64     `json:"count"`
	Seconds   float64   `json:"seconds"`
	PerSecond float64   `json:"per_second"`
	Latency   latencies `json:"latency_ms"`
	// CPU milliseconds per create: the server's and the client's.
	ServerCPU float64 `json:"server_cpu_ms"`
	ClientCPU float64 `json:"client_cpu_ms"`
}

// creates runs --clients loops of POST /uploads for --create-time.
func (b *bench) creates(ctx context.Context, rep *report) error {
	res := &createsResult{Clients: b.cfg.clients}
	cpu0, self0 := b.silo.cpu(), procstat.Self()
	lat, d, err := hammer(ctx, b.cfg.clients, b.cfg.createTime, maxCreates, func(ctx context.Context) error {
		_, err := b.newUpload(ctx, 1)
		return err
	})
	if err != nil {
		return err
	}
	res.Count = int64(len(lat))
	res.Seconds = d.Seconds()
	res.PerSecond = float64(res.Count) / d.Seconds()
	res.Latency = summarize(lat)
	res.ServerCPU = ms(b.silo.cpu()-cpu0) / float64(res.Count)
	res.ClientCPU = ms(procstat.Self()-self0) / float64(res.Count)
	b.logf("%d creates from %d clients in %.1fs: %.0f/s, p50 %.1f ms, p99 %.1f ms",
		res.Count, res.Clients, res.Seconds, res.PerSecond, res.Latency.P50, res.Latency.P99)
	rep.Creates = res
	return nil
}

// hammer calls op from clients goroutines until d has passed or limit calls
// were made, and returns each call's latency and the time it all took. The
// first failure stops it.
func hammer(ctx context.Context, clients int, d time.Duration, limit int64, op func(context.Context) error) ([]time.Duration, time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	var all []time.Duration
	var calls atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			defer func() {
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			}()
			for time.Now().Before(deadline) && calls.Add(1) <= limit && ctx.Err() == nil {
				t := time.Now()
				if err := op(ctx); err != nil {
					cancel(err)
					return
				}
				mine = append(mine, time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return nil, 0, err
	}
	return all, elapsed, nil
}

// listFilesPage lists one page with the SDK.
func listFilesPage(ctx context.Context, c *openai.Client, q openai.FileListParams) ([]openai.FileObject, bool, error) {
	page, err := c.Files.List(ctx, q)
	if err != nil {
		return nil, false, err
	}
	return page.Data, page.HasMore, nil
}
