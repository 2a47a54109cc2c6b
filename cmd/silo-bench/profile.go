package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/openai/openai-go/v3"
)

// maxProfiledRounds bounds the work repeated while a profile is taken.
const maxProfiledRounds = 50

// profile takes pprof profiles of silo through its --debug-addr listener,
// into --profile: CPU during ingest (the parts' md5 chain included) with a
// heap profile halfway, CPU during completes with md5 and the parts in
// reverse order (a pass over the bytes), and CPU during downloads.
func (b *bench) profile(ctx context.Context, rep *report) error {
	dir := b.cfg.profileDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "silo-bench-profiles")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	n := int(b.cfg.ingestSize / b.cfg.partSize)
	secs := max(1, int(b.cfg.profileTime.Seconds()))

	b.logf("profiling ingest for %ds", secs)
	heapAt := time.AfterFunc(b.cfg.profileTime/2, func() {
		if err := b.fetchProfile(ctx, b.silo, "heap", filepath.Join(dir, "ingest.heap.pprof")); err != nil {
			b.logf("heap profile: %v", err)
		}
	})
	err := b.whileProfiling(ctx, b.silo, secs, filepath.Join(dir, "ingest.cpu.pprof"), func(ctx context.Context) error {
		id, err := b.newUpload(ctx, b.cfg.ingestSize)
		if err != nil {
			return err
		}
		if _, _, err := sendAll(ctx, n, b.cfg.parallel, 0, b.rawPart(id)); err != nil {
			return err
		}
		_, err = b.sdk.Uploads.Cancel(ctx, id)
		return err
	})
	heapAt.Stop()
	if err != nil {
		return err
	}
	if err := b.settle(ctx); err != nil {
		return err
	}
	b.logf("profiling ingest with --md5-on-arrival=false for %ds", secs)
	err = b.whileProfiling(ctx, b.siloOff, secs, filepath.Join(dir, "ingest-nomd5.cpu.pprof"), func(ctx context.Context) error {
		sdk := newSDK(b.siloOff.baseURL, b.hc)
		id, err := newUploadOf(ctx, sdk, b.cfg.ingestSize)
		if err != nil {
			return err
		}
		if _, _, err := sendAll(ctx, n, b.cfg.parallel, 0, b.rawPartTo(b.siloOff, id)); err != nil {
			return err
		}
		_, err = sdk.Uploads.Cancel(ctx, id)
		return err
	})
	if err != nil {
		return err
	}
	if err := b.settle(ctx); err != nil {
		return err
	}

	// Uploads to complete while profiled: about as many as one profile's time
	// takes to read at md5's pace.
	k := max(1, int(float64(secs)*600e6/float64(b.cfg.ingestSize)))
	b.logf("sending %d uploads of %s to complete with md5 in reverse order", k, fmtBytes(b.cfg.ingestSize))
	type pending struct {
		id  string
		ids []string
	}
	var todo []pending
	for range k {
		id, err := b.newUpload(ctx, b.cfg.ingestSize)
		if err != nil {
			return err
		}
		ids, _, err := sendAll(ctx, n, b.cfg.parallel, 0, b.rawPart(id))
		if err != nil {
			return err
		}
		slices.Reverse(ids)
		todo = append(todo, pending{id, ids})
	}
	sum := b.data.md5Of(reversed(n))
	var files []string
	b.logf("profiling complete with md5, reverse order, for %ds", secs)
	err = b.whileProfiling(ctx, b.silo, secs, filepath.Join(dir, "complete-md5.cpu.pprof"), func(ctx context.Context) error {
		if len(todo) == 0 {
			return errDone
		}
		u, err := b.sdk.Uploads.Complete(ctx, todo[0].id, openai.UploadCompleteParams{PartIDs: todo[0].ids, Md5: openai.String(sum)})
		todo = todo[1:]
		if err == nil {
			files = append(files, u.File.ID)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, id := range files {
		if _, err := b.sdk.Files.Delete(ctx, id); err != nil {
			return err
		}
	}
	if err := b.settle(ctx); err != nil {
		return err
	}

	if err := b.keepFile(ctx); err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	b.logf("profiling download for %ds", secs)
	err = b.whileProfiling(ctx, b.silo, secs, filepath.Join(dir, "download.cpu.pprof"), func(ctx context.Context) error {
		_, err := b.readSiloFile(ctx, b.kept.id, buf)
		return err
	})
	if err != nil {
		return err
	}
	b.logf("profiles in %s; e.g. go tool pprof -top %s", dir, filepath.Join(dir, "ingest.cpu.pprof"))
	rep.ProfileDir = dir
	return nil
}

// errDone ends a profiled loop early: its work is done.
var errDone = fmt.Errorf("done")

// whileProfiling takes a CPU profile of secs seconds into path and calls work
// over and over until the profile is written, at most maxProfiledRounds times.
func (b *bench) whileProfiling(ctx context.Context, srv *child, secs int, path string, work func(context.Context) error) error {
	done := make(chan error, 1)
	go func() {
		done <- b.fetchProfile(ctx, srv, fmt.Sprintf("profile?seconds=%d", secs), path)
	}()
	for range maxProfiledRounds {
		select {
		case err := <-done:
			return err
		default:
		}
		if err := work(ctx); err == errDone {
			break
		} else if err != nil {
			return err
		}
	}
	return <-done
}

// fetchProfile saves srv's /debug/pprof/<what> to path.
func (b *bench) fetchProfile(ctx context.Context, srv *child, what, path string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", srv.debug+"/debug/pprof/"+what, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET /debug/pprof/%s: %s", what, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
