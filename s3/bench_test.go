package s3

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/silo-dev/silo/internal/procstat"
)

// TestPutBench measures the store's Put and Open against minio-go v7 straight
// to the same bucket, as silo-bench's S3 reference does: 16 blobs of 64 MiB,
// 4 Puts at a time, each from a plain reader giving 1 MiB per Read (as a
// request body does: no WriterTo, no Seek); then the 16 read back one after
// the other through a plain 256 KiB copy into nothing. For each side it
// reports the wall rate, this process's CPU seconds per GiB and, with
// SILO_S3_BENCH_MINIO_PID, the MinIO's (waiting for it to go idle after each
// side). Sides alternate, SILO_S3_BENCH_RUNS times each (default 3) after
// one warm-up run each; medians.
// It runs only with SILO_S3_PUTBENCH=1 (and SILO_TEST_S3_URL): it is a
// measurement, asserts nothing about time, and takes a minute or more.
//
//	SILO_S3_PUTBENCH=1 SILO_S3_BENCH_MINIO_PID=PID SILO_TEST_S3_URL=… \
//	  go test -run TestPutBench -v -timeout 30m ./s3/
//
// SILO_S3_BENCH_SIDES chooses the sides (comma-separated): silo (the
// default Options), silo-NM (parts of N MiB), either followed by variants
// for A/B measurements (silo+plainconn: without bodyConn; +whole: a part in one write(2);
// +chunk256k: in writes of 256 KiB), minio-go (one PutObject per
// blob, no SHA-256, as silo-bench), minio-go-16M (minio-go's default parts
// of 16 MiB). SILO_S3_BENCH_GET=0 leaves the reads out.
// bodyWriteDefault is bodyWrite as the package sets it.
var bodyWriteDefault = bodyWrite

func TestPutBench(t *testing.T) {
	if os.Getenv("SILO_S3_PUTBENCH") != "1" {
		t.Skip("a measurement: set SILO_S3_PUTBENCH=1 to run it")
	}
	raw := testURL(t)
	runs := 3
	if v := os.Getenv("SILO_S3_BENCH_RUNS"); v != "" {
		runs, _ = strconv.Atoi(v)
	}
	minioPID, _ := strconv.Atoi(os.Getenv("SILO_S3_BENCH_MINIO_PID"))
	sides := strings.Split(cmp.Or(os.Getenv("SILO_S3_BENCH_SIDES"), "silo,minio-go"), ",")
	getToo := os.Getenv("SILO_S3_BENCH_GET") != "0"

	const blobs, blobSize, parallel = 16, 64 << 20, 4
	data := make([]byte, blobSize)
	rand.NewChaCha8([32]byte{7}).Read(data)

	var benches []*benchSide
	for _, name := range sides {
		benches = append(benches, newBenchSide(t, raw, name))
	}
	ctx := context.Background()
	type figures struct{ mbps, self, minio float64 }
	results := map[string]map[string][]figures{} // side → put/get → runs
	// Run -1 warms up (connections, buffers) and is not counted.
	for run := -1; run < runs; run++ {
		for k := range benches {
			// Rotate the order, so that no side always follows the same one.
			b := benches[(k+run+1)%len(benches)]
			for _, op := range []string{"put", "get"} {
				if op == "get" && !getToo {
					continue
				}
				procstat.WaitIdle(context.Background(), minioPID)
				keys := make([]string, blobs)
				for i := range keys {
					keys[i] = fmt.Sprintf("bench/%s/%d", benchKey(b.name), i)
				}
				start, self0, minio0 := time.Now(), procstat.Self(), procstat.CPU(minioPID)
				var err error
				if op == "put" {
					err = forEach(blobs, parallel, func(i int) error {
						return b.put(ctx, keys[i], &plainReader{data: data, chunk: 1 << 20})
					})
				} else {
					err = forEach(blobs, 1, func(i int) error { return b.get(ctx, keys[i], blobSize) })
				}
				wall, self := time.Since(start), procstat.Self()-self0
				procstat.WaitIdle(context.Background(), minioPID)
				mcpu := procstat.CPU(minioPID) - minio0
				if err != nil {
					t.Fatalf("%s %s: %v", b.name, op, err)
				}
				gib := float64(blobs*blobSize) / (1 << 30)
				f := figures{float64(blobs*blobSize) / wall.Seconds() / 1e6, self.Seconds() / gib, mcpu.Seconds() / gib}
				t.Logf("run %d %-4s %-14s %7.1f MB/s  self %.2f, minio %.2f CPU s/GiB", run, op, b.name, f.mbps, f.self, f.minio)
				if run < 0 {
					continue
				}
				if results[b.name] == nil {
					results[b.name] = map[string][]figures{}
				}
				results[b.name][op] = append(results[b.name][op], f)
			}
			for i := range blobs {
				if err := b.remove(ctx, fmt.Sprintf("bench/%s/%d", benchKey(b.name), i)); err != nil {
					t.Fatalf("%s: removing: %v", b.name, err)
				}
			}
		}
	}
	t.Logf("medians of %d runs:", runs)
	t.Logf("%-4s %-14s %9s %12s %12s", "op", "side", "MB/s", "self CPU/GiB", "MinIO CPU/GiB")
	for _, op := range []string{"put", "get"} {
		for _, b := range benches {
			fs := results[b.name][op]
			if len(fs) == 0 {
				continue
			}
			med := func(f func(figures) float64) float64 {
				v := make([]float64, len(fs))
				for i := range fs {
					v[i] = f(fs[i])
				}
				slices.Sort(v)
				return v[len(v)/2]
			}
			t.Logf("%-4s %-14s %9.1f %12.2f %12.2f", op, b.name,
				med(func(f figures) float64 { return f.mbps }),
				med(func(f figures) float64 { return f.self }),
				med(func(f figures) float64 { return f.minio }))
		}
	}
}

// benchSide is one way to put, get and remove blobs.
type benchSide struct {
	name   string
	put    func(ctx context.Context, key string, r io.Reader) error
	get    func(ctx context.Context, key string, size int64) error
	remove func(ctx context.Context, key string) error
}

// benchKey is name as a blob key segment.
func benchKey(name string) string {
	return strings.NewReplacer("+", "_", ".", "_").Replace(name)
}

func newBenchSide(t *testing.T, raw, name string) *benchSide {
	t.Helper()
	loc, err := parseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	var mu sync.Mutex // buf is for the sequential gets only
	discard := func(r io.Reader, want int64) error {
		mu.Lock()
		defer mu.Unlock()
		var n int64
		for {
			m, err := r.Read(buf)
			n += int64(m)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		if n != want {
			return fmt.Errorf("read %d bytes, want %d", n, want)
		}
		return nil
	}
	switch {
	case name == "silo" || strings.HasPrefix(name, "silo-") || strings.HasPrefix(name, "silo+"):
		opts := Options{}
		base, variants, _ := strings.Cut(name, "+")
		if mib, ok := strings.CutSuffix(strings.TrimPrefix(base, "silo-"), "M"); ok {
			n, err := strconv.Atoi(mib)
			if err != nil {
				t.Fatalf("side %q: expected silo-NM", name)
			}
			opts.PartSize = n << 20
		}
		for v := range strings.SplitSeq(variants, "+") {
			switch v {
			case "":
			case "plainconn":
				noBodyConn = true
			case "whole":
				bodyWrite = 1 << 30
			case "chunk256k":
				bodyWrite = 256 << 10
			default:
				t.Fatalf("side %q: unknown variant %q", name, v)
			}
		}
		s := open(t, raw, opts)
		noBodyConn, bodyWrite = false, bodyWriteDefault
		return &benchSide{
			name: name,
			put: func(ctx context.Context, key string, r io.Reader) error {
				_, err := s.Put(ctx, key, r)
				return err
			},
			get: func(ctx context.Context, key string, size int64) error {
				rc, err := s.Open(ctx, key, 0, -1)
				if err != nil {
					return err
				}
				defer rc.Close()
				return discard(rc, size)
			},
			remove: func(ctx context.Context, key string) error { return s.Delete(ctx, key) },
		}
	case name == "minio-go" || name == "minio-go-16M":
		ep, err := url.Parse(loc.endpoint)
		if err != nil || ep.Host == "" {
			t.Fatalf("minio-go needs an endpoint in %s", raw)
		}
		mc, err := minio.New(ep.Host, &minio.Options{Creds: credentials.NewEnvAWS(), Secure: ep.Scheme == "https", Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		prefix := loc.prefix
		opts := minio.PutObjectOptions{ContentType: "application/octet-stream", DisableContentSha256: true}
		if name == "minio-go" {
			opts.PartSize = 64 << 20 // one request per blob, as silo-bench's reference
		}
		return &benchSide{
			name: name,
			put: func(ctx context.Context, key string, r io.Reader) error {
				_, err := mc.PutObject(ctx, loc.bucket, prefix+key, r, 64<<20, opts)
				return err
			},
			get: func(ctx context.Context, key string, size int64) error {
				obj, err := mc.GetObject(ctx, loc.bucket, prefix+key, minio.GetObjectOptions{})
				if err != nil {
					return err
				}
				defer obj.Close()
				return discard(obj, size)
			},
			remove: func(ctx context.Context, key string) error {
				return mc.RemoveObject(ctx, loc.bucket, prefix+key, minio.RemoveObjectOptions{})
			},
		}
	}
	t.Fatalf("unknown side %q", name)
	return nil
}

// plainReader reads data at most chunk bytes per Read, and is nothing but an
// io.Reader.
type plainReader struct {
	data  []byte
	off   int
	chunk int
}

func (r *plainReader) Read(p []byte) (int, error) {
	if r.off == len(r.data) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.chunk)], r.data[r.off:])
	r.off += n
	return n, nil
}

// forEach calls fn for 0…n-1, at most parallel at once, and returns the
// first error.
func forEach(n, parallel int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	for range parallel {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}
