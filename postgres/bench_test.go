package postgres_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/postgres"
)

// BenchmarkListFiles pages through a project of 100,000 files, a tenth of
// them deleted and as many of another project mixed in: a page of 100 must
// cost a range scan of an index, whatever the size of the table.
func BenchmarkListFiles(b *testing.B) {
	url := freshSchema(b)
	s := open(b, url, postgres.Options{})
	defer s.Close()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	// Rows made in bulk: the store's own inserts would take minutes.
	if _, err := conn.Exec(ctx, `
		INSERT INTO files (id, project, bytes, created_at, filename, purpose, expires_at, deleted)
		SELECT 'file-' || i, CASE WHEN i % 2 = 0 THEN 'proj' ELSE 'other' END, 10, 1700000000,
			'f.jsonl', CASE WHEN i % 3 = 0 THEN 'batch' ELSE 'user_data' END, 0, i % 10 = 0
		FROM generate_series(1, 200000) AS i;
		INSERT INTO file_blobs (file_seq, idx, key, size) SELECT seq, 0, 'files/' || id, 10 FROM files;
		ANALYZE`); err != nil {
		b.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	for _, bc := range []struct {
		name string
		q    silo.FileQuery
	}{
		{"FirstPage", silo.FileQuery{Limit: 100, Order: "desc"}},
		{"MiddlePage", silo.FileQuery{Limit: 100, Order: "asc", After: "file-100000"}},
		{"Purpose", silo.FileQuery{Limit: 100, Order: "desc", Purpose: "batch", After: "file-150000"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				list, err := s.ListFiles(ctx, "proj", bc.q, now)
				if err != nil || len(list.Files) != 100 {
					b.Fatalf("ListFiles: %d files, %v", len(list.Files), err)
				}
			}
		})
	}
}

// BenchmarkCreateUpload makes Uploads from 16 goroutines at once, as 16
// clients' POST /uploads do, with no quota (one statement each). It reports
// the process's CPU per create beside the time: on a database with fsync on,
// the time is mostly the commit's, the CPU the store's own cost.
func BenchmarkCreateUpload(b *testing.B) {
	s := open(b, freshSchema(b), postgres.Options{})
	defer s.Close()
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			u := &silo.Upload{
				ID: fmt.Sprintf("upload_bench%d", n.Add(1)), Project: "proj", Bytes: 1,
				Filename: "f.jsonl", Purpose: "batch", MimeType: "application/jsonl",
				CreatedAt: 1_700_000_000, ExpiresAt: 1_700_003_600, Status: silo.StatusPending,
			}
			if err := s.CreateUpload(ctx, u, silo.Quota{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// cpuTime returns the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
