package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/silo-dev/silo"
)

// listResult is the latency of a page of 100 files with --files stored.
type listResult struct {
	Files int `json:"files"`
	// Seeded files were recorded in this run (SeedPerSecond, straight
	// through the metadata store); the rest were found in --list-data.
	Seeded        int     `json:"seeded"`
	SeedSeconds   float64 `json:"seed_seconds"`
	SeedPerSecond float64 `json:"seed_files_per_second"`
	// Pages of 100: the newest (the default order), the oldest, and one from
	// a cursor in the middle.
	First  latencies `json:"first_page_ms"`
	Asc    latencies `json:"first_page_asc_ms"`
	Middle latencies `json:"middle_page_ms"`
	// ServerCPU is silo's CPU ms per page.
	ServerCPU float64 `json:"server_cpu_ms_per_page"`
}

// list starts a silo on its own data dir (and schema), records files in it
// up to --files (reusing those of an earlier run with --list-data), and
// times list pages, with silo's CPU per page.
func (b *bench) list(ctx context.Context, rep *report) error {
	data := b.cfg.listData
	if data == "" {
		data = filepath.Join(b.dir, "list-silo")
		if !b.cfg.keep {
			defer os.RemoveAll(data)
			defer os.Remove(data + ".log")
		}
	}
	if err := b.cfg.be.ensureSchema(ctx, "list"); err != nil {
		return err
	}
	srv, err := startSilo(ctx, b.siloBin, data, b.cfg.be.siloArgs("list")...)
	if err != nil {
		return err
	}
	defer srv.stop()
	c := newSDK(srv.baseURL, b.hc)
	res := &listResult{}
	have, _, err := countStoredFiles(ctx, c)
	if err != nil {
		return err
	}
	if missing := b.cfg.files - have; missing > 0 {
		// Records only, straight through the store silo uses, from this
		// process while silo runs (SQLite in WAL mode and PostgreSQL both
		// take a second writer).
		b.logf("recording %d files of 1 byte straight through the metadata store", missing)
		start := time.Now()
		if b.cfg.be.db != "" {
			err = b.cfg.be.seedFilesPG(ctx, "list", missing)
		} else {
			var meta silo.MetaStore
			if meta, err = b.cfg.be.openMeta(ctx, "list", data); err != nil {
				return err
			}
			err = seedFiles(ctx, meta, missing, func(done int) { b.logf("recorded %d files", done) })
			meta.Close()
		}
		if err != nil {
			return fmt.Errorf("seeding: %w", err)
		}
		d := time.Since(start)
		res.Seeded, res.SeedSeconds = missing, d.Seconds()
		res.SeedPerSecond = float64(missing) / d.Seconds()
		b.logf("recorded %d files in %.1fs: %.0f/s", res.Seeded, res.SeedSeconds, res.SeedPerSecond)
	}
	total, middle, err := countStoredFiles(ctx, c)
	if err != nil {
		return err
	}
	res.Files = total
	pages := []struct {
		into *latencies
		q    openai.FileListParams
	}{
		{&res.First, openai.FileListParams{Limit: openai.Int(100)}},
		{&res.Asc, openai.FileListParams{Limit: openai.Int(100), Order: openai.FileListParamsOrderAsc}},
		{&res.Middle, openai.FileListParams{Limit: openai.Int(100), After: openai.String(middle)}},
	}
	cpu0 := srv.cpu()
	for _, p := range pages {
		lat := make([]time.Duration, 0, b.cfg.listQueries)
		for range b.cfg.listQueries {
			start := time.Now()
			files, _, err := listFilesPage(ctx, c, p.q)
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(start))
			if len(files) != min(100, total) {
				return fmt.Errorf("a page of %d files, want %d", len(files), min(100, total))
			}
		}
		*p.into = summarize(lat)
	}
	res.ServerCPU = ms(srv.cpu()-cpu0) / float64(len(pages)*b.cfg.listQueries)
	b.logf("list page of 100 at %d files: newest p50 %.2f ms, oldest p50 %.2f ms, middle p50 %.2f ms",
		total, res.First.P50, res.Asc.P50, res.Middle.P50)
	rep.List = res
	return nil
}

// countStoredFiles pages through every file, 10,000 at a time, and returns how
// many there are and the id of the one in the middle.
func countStoredFiles(ctx context.Context, c *openai.Client) (int, string, error) {
	var ids []string
	q := openai.FileListParams{Limit: openai.Int(10000), Order: openai.FileListParamsOrderAsc}
	for range 10000 { // at most 100M files
		files, more, err := listFilesPage(ctx, c, q)
		if err != nil {
			return 0, "", err
		}
		for _, f := range files {
			ids = append(ids, f.ID)
		}
		if !more || len(files) == 0 {
			break
		}
		q.After = openai.String(files[len(files)-1].ID)
	}
	if len(ids) == 0 {
		return 0, "", nil
	}
	return len(ids), ids[len(ids)/2], nil
}
