package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// bench is one run: the servers, the clients and the bytes to send.
type bench struct {
	cfg     *config
	log     io.Writer
	dir     string // the run's directory, removed at the end unless kept
	owned   bool   // dir was made by this run
	siloBin string
	silo    *child  // md5 on arrival (the default)
	siloOff *child  // --md5-on-arrival=false
	sink    *child  // the fsync sink, with local disk
	direct  *direct // the baseline with S3
	hc      *http.Client
	sdk     *openai.Client
	data    *payload
	kept    keptFile // a completed file kept for the downloads
}

// keptFile is a File of silo the benchmark keeps across phases.
type keptFile struct {
	id    string
	bytes int64
	parts int
}

// newBench prepares the run's directory, builds silo, and starts silo and
// the sink.
func newBench(ctx context.Context, cfg *config, log io.Writer) (*bench, error) {
	b := &bench{cfg: cfg, log: log}
	if cfg.dir == "" {
		d, err := os.MkdirTemp(".", ".silo-bench-")
		if err != nil {
			return nil, err
		}
		cfg.dir, b.owned = d, true
	}
	dir, err := filepath.Abs(cfg.dir)
	if err != nil {
		return nil, err
	}
	cfg.dir, b.dir = dir, dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	b.siloBin = cfg.siloBin
	if b.siloBin == "" {
		b.logf("building silo")
		if b.siloBin, err = buildSilo(ctx, dir); err != nil {
			b.close()
			return nil, err
		}
	}
	b.hc = &http.Client{Transport: newTransport()}
	if cfg.be.blobs != "" {
		if b.direct, err = newDirect(ctx, cfg.be, b.hc); err != nil {
			b.close()
			return nil, err
		}
	}
	for _, role := range []string{"main", "nomd5"} {
		if err := cfg.be.ensureSchema(ctx, role); err != nil {
			b.close()
			return nil, err
		}
	}
	mainArgs := cfg.be.siloArgs("main")
	if cfg.md5Mode != "" {
		mainArgs = append(mainArgs, "--md5-on-arrival="+cfg.md5Mode)
	}
	if b.silo, err = startSilo(ctx, b.siloBin, filepath.Join(dir, "silo"), mainArgs...); err != nil {
		b.close()
		return nil, err
	}
	if b.siloOff, err = startSilo(ctx, b.siloBin, filepath.Join(dir, "silo-nomd5"), append(cfg.be.siloArgs("nomd5"), "--md5-on-arrival=false")...); err != nil {
		b.close()
		return nil, err
	}
	if cfg.be.blobs == "" {
		if b.sink, err = startSinkChild(ctx, filepath.Join(dir, "sink"), cfg.sinkPlain); err != nil {
			b.close()
			return nil, err
		}
	}
	b.sdk = newSDK(b.silo.baseURL, b.hc)
	b.data = newPayload(cfg.partSize)
	return b, nil
}

// newSDK returns an openai-go client of the silo at baseURL that does not
// retry, so that a failure shows instead of being averaged in.
func newSDK(baseURL string, hc *http.Client) *openai.Client {
	c := openai.NewClient(
		option.WithBaseURL(baseURL+"/v1"), option.WithAPIKey("sk-bench"),
		option.WithHTTPClient(hc), option.WithMaxRetries(0),
	)
	return &c
}

// close stops the servers and removes the run's data unless kept.
func (b *bench) close() {
	b.silo.stop()
	b.siloOff.stop()
	b.sink.stop()
	if b.cfg.keep {
		b.logf("kept %s", b.dir)
		return
	}
	if b.direct != nil {
		if err := b.direct.clearAll(context.Background()); err != nil {
			b.logf("removing the run's objects from the bucket: %v", err)
		}
	}
	for _, d := range []string{"silo", "silo-nomd5", "sink", "bin", "silo.log", "silo-nomd5.log", "sink.log"} {
		os.RemoveAll(filepath.Join(b.dir, d))
	}
	if b.owned {
		os.RemoveAll(b.dir)
	}
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// newUpload creates a pending Upload of size bytes with the SDK.
func (b *bench) newUpload(ctx context.Context, size int64) (string, error) {
	return newUploadOf(ctx, b.sdk, size)
}

// newUploadOf creates a pending Upload of size bytes with the SDK client c.
func newUploadOf(ctx context.Context, c *openai.Client, size int64) (string, error) {
	u, err := c.Uploads.New(ctx, openai.UploadNewParams{
		Bytes: size, Filename: "bench.bin", MimeType: "application/octet-stream", Purpose: openai.FilePurposeUserData,
	})
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// settle returns once silo's reaper has removed the blobs of what was
// cancelled or deleted (at most 30s) and everything is on the device, so that
// the next measurement starts from the same state and does not pay for the
// last one's clean-up.
func (b *bench) settle(ctx context.Context) error {
	for _, dir := range []string{"silo", "silo-nomd5"} {
		if b.cfg.be.blobs != "" {
			break // in S3: the servers going quiet says the deletes are done
		}
		blobs := filepath.Join(b.dir, dir, "blobs", "blobs")
		keep := 0
		if dir == "silo" {
			keep = b.keptBlobs()
		}
		deadline := time.Now().Add(30 * time.Second)
		for countFiles(blobs) > keep && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	syscall.Sync()
	b.silo.waitQuiet(ctx)
	b.siloOff.waitQuiet(ctx)
	if b.sink != nil {
		b.sink.waitQuiet(ctx)
	}
	return nil
}

// keptBlobs is how many blobs the benchmark still means silo to hold: the
// parts of the file kept for downloads.
func (b *bench) keptBlobs() int { return b.kept.parts }

// clearSink removes what the sink (or the direct baseline) stored.
func (b *bench) clearSink() error {
	if b.direct != nil {
		return b.direct.clear(context.Background())
	}
	dir := filepath.Join(b.dir, "sink")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// countFiles counts the regular files under dir.
func countFiles(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}
