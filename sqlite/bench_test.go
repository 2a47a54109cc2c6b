package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/sqlite"
)

// BenchmarkListFiles reads 100-file pages at random cursors of a project
// holding 100,000 files, a tenth of them deleted.
func BenchmarkListFiles(b *testing.B) {
	ctx := context.Background()
	s := open(b, sqlite.Options{})
	defer s.Close()
	const n = 100_000
	ids := make([]string, n)
	purposes := []string{"batch", "fine-tune", "assistants", "vision", "user_data", "evals"}
	var next atomic.Int64
	var wg sync.WaitGroup
	// Many writers at once, so that group commit loads the files in
	// batches rather than one fsync each.
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f := &silo.File{ID: fmt.Sprintf("file-%06d", i), Project: "p", Bytes: 1, CreatedAt: t0.Unix(),
					Filename: "f", Purpose: purposes[i%len(purposes)], Blobs: []silo.BlobRef{{Key: fmt.Sprintf("files/%d", i), Size: 1}}}
				if err := s.CreateFile(ctx, f, silo.Quota{}); err != nil {
					b.Error(err)
					return
				}
				ids[i] = f.ID
				if i%10 == 9 {
					if err := s.DeleteFile(ctx, "p", f.ID, t0); err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	for _, bc := range []struct {
		name    string
		purpose string
	}{{"all", ""}, {"purpose", "vision"}} {
		b.Run(bc.name, func(b *testing.B) {
			rnd := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				q := silo.FileQuery{Purpose: bc.purpose, Limit: 100, Order: "desc", After: ids[rnd.IntN(n)]}
				if _, err := s.ListFiles(ctx, "p", q, t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreateUpload measures durable CreateUpload calls from 16
// concurrent clients, with and without group commit.
func BenchmarkCreateUpload(b *testing.B) {
	for _, bc := range []struct {
		name     string
		maxBatch int
	}{{"group", 0}, {"single", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			s := open(b, sqlite.Options{MaxBatch: bc.maxBatch})
			defer s.Close()
			b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					u := &silo.Upload{ID: silo.NewID(silo.UploadIDPrefix), Project: "p", Bytes: 1, Filename: "f",
						Purpose: "batch", MimeType: "text/plain", CreatedAt: t0.Unix(), ExpiresAt: t0.Unix() + 3600,
						Status: silo.StatusPending}
					if err := s.CreateUpload(ctx, u, silo.Quota{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
		})
	}
}
