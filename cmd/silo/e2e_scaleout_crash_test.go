package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
)

// crashFlags are the flags of the instances of the crash and
// linearizability tests: a short schedule of reaper and sweeps, so that what
// a killed instance left behind is gone within seconds. The orphan grace
// bounds how long a part may take from its first byte to its record: the
// test's parts take well under a second on a quiet machine, but under the
// race detector on two loaded CPUs a 9 MiB part took more than 5 s, and the
// sweep then removed its blob before its record committed (as it would in
// production with parts slower than --orphan-grace).
func crashFlags(pgURL, blobsURL string) []string {
	return []string{"--db", pgURL, "--blobs", blobsURL,
		"--reap-interval", "500ms", "--garbage-grace", "1s",
		"--sweep-interval", "1s", "--orphan-grace", "20s",
		"--log-level", "warn"}
}

// crashWriter is one writer of the crash loop and what it was told.
type crashWriter struct {
	id  int
	c   *cluster
	rng *rand.Rand

	files   map[string][]byte // acknowledged Files: id -> bytes
	deleted []string          // Files whose delete was acknowledged
	named   map[string][]byte // every filename sent: its bytes, acknowledged or not
	ops     int
	errs    []error
}

// TestE2E_ScaleOutCrashLoop SIGKILLs a random one of three instances over
// PostgreSQL and S3 at random moments, 20 times, while four writers make
// Files (in one request, and as uploads of parts through random instances,
// completed with and without md5) and delete some, retrying what a kill cut
// off. Then every acknowledged File is there with its bytes, every File
// listed is whole (a File whose answer was lost may exist, never a part of
// one), a deleted File is gone, and once the sweeps have run the bucket
// holds exactly the blobs the database names: nothing a killed request
// wrote is left, nothing acknowledged is lost.
func TestE2E_ScaleOutCrashLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	pg, blobs := testPostgres(t), testS3(t)
	began := time.Now()
	c := startCluster(t, 3, crashFlags(pg, blobs)...)
	t.Logf("%v: started", time.Since(began))

	const cycles = 20
	stop := make(chan struct{})
	writers := make([]*crashWriter, 4)
	var wg sync.WaitGroup
	for i := range writers {
		w := &crashWriter{id: i, c: c, rng: rand.New(rand.NewPCG(uint64(i), 13)), files: map[string][]byte{}, named: map[string][]byte{}}
		writers[i] = w
		wg.Go(func() { w.run(stop) })
	}
	rng := rand.New(rand.NewPCG(99, 13))
	for range cycles {
		time.Sleep(time.Duration(100+rng.IntN(300)) * time.Millisecond)
		c.restart(rng.IntN(c.size()))
	}
	t.Logf("%v: the kill loop ended", time.Since(began))
	close(stop)
	wg.Wait()

	ctx := context.Background()
	var ops, verified int
	var bytesVerified int64
	named := map[string][]byte{}
	acked := map[string]bool{}
	for _, w := range writers {
		for _, err := range w.errs {
			t.Errorf("writer %d: %v", w.id, err)
		}
		ops += w.ops
		for name, data := range w.named {
			named[name] = data
		}
		for id, data := range w.files {
			acked[id] = true
			if got := fileContent(t, c.client(rng.IntN(c.size())), id); !bytes.Equal(got, data) {
				t.Errorf("acknowledged file %s: %d bytes that differ from the %d sent", id, len(got), len(data))
			}
			verified++
			bytesVerified += int64(len(data))
		}
		for _, id := range w.deleted {
			_, err := c.client(0).Files.Get(ctx, id)
			var e *openai.Error
			if !errors.As(err, &e) || e.StatusCode != 404 {
				t.Errorf("deleted file %s: got %v, want 404", id, err)
			}
		}
	}
	// Every File listed is one the writers sent, whole; every acknowledged
	// one is listed.
	listed := map[string]bool{}
	iter := c.client(1).Files.ListAutoPaging(ctx, openai.FileListParams{})
	for iter.Next() {
		f := iter.Current()
		listed[f.ID] = true
		want, ok := named[f.Filename]
		if !ok {
			t.Errorf("file %s named %q: no writer sent it", f.ID, f.Filename)
			continue
		}
		if f.Bytes != int64(len(want)) {
			t.Errorf("file %s (%s): %d bytes, want %d", f.ID, f.Filename, f.Bytes, len(want))
		}
		if !acked[f.ID] {
			if got := fileContent(t, c.client(2), f.ID); !bytes.Equal(got, want) {
				t.Errorf("file %s (%s), made by a call whose answer was lost: %d bytes that differ from the %d sent", f.ID, f.Filename, len(got), len(want))
			}
			verified++
			bytesVerified += int64(len(want))
		}
	}
	fatalIf(t, iter.Err())
	for id := range acked {
		if !listed[id] {
			t.Errorf("acknowledged file %s is not listed", id)
		}
	}
	t.Logf("%v: verified", time.Since(began))
	killMidPart(t, c, pg, blobs)
	n, orphans := waitSwept(t, pg, blobs, 60*time.Second)
	if orphans == 0 {
		t.Errorf("no orphaned object or unfinished upload seen before the sweep, though an instance was killed midway through a part")
	}
	t.Logf("%d kill cycles, %d writer operations, %d files verified (%d bytes compared); %d orphaned objects or unfinished uploads swept, leaving the %d blobs the database names",
		cycles, ops, verified, bytesVerified, orphans, n)
}

// killMidPart kills an instance for sure while a part is being written to S3
// as a multipart upload, which the sweep must then abort.
func killMidPart(t *testing.T, c *cluster, pg, blobs string) {
	t.Helper()
	u, err := c.client(0).Uploads.New(context.Background(), openai.UploadNewParams{
		Bytes: 20 << 20, Filename: "killed-mid-part.bin", MimeType: "application/octet-stream", Purpose: "user_data",
	})
	fatalIf(t, err)
	p := c.instance(0)
	part := startPart(t, http.DefaultClient, p.BaseURL, "sk-test", u.ID)
	if _, err := part.Data.Write(pseudoRandom(12<<20, 7)); err != nil {
		t.Fatalf("streaming a part: %v", err)
	}
	for i := 0; ; i++ {
		if _, _, unfinished := blobSets(t, pg, blobs); unfinished > 0 {
			break
		}
		if i == 200 {
			t.Fatal("the part streaming in never began a multipart upload")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.restart(0)
	if status := part.finish(); status != 0 {
		t.Errorf("the part cut off by a kill was answered %d", status)
	}
}

// run makes Files until stop is closed.
func (w *crashWriter) run(stop chan struct{}) {
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			return
		default:
		}
		w.ops++
		var err error
		switch r := w.rng.IntN(10); {
		case r < 3:
			err = w.oneFile(seq)
		case r < 4 && len(w.files) > 0:
			err = w.deleteOne()
		default:
			err = w.upload(seq)
		}
		if err != nil {
			w.errs = append(w.errs, err)
			if len(w.errs) > 5 {
				return
			}
		}
	}
}

// oneFile makes a File in one request; a try whose answer was lost may have
// made one, under a name of its own.
func (w *crashWriter) oneFile(seq int) error {
	data := pseudoRandom(1+w.rng.IntN(256<<10), w.rng.Uint32())
	for try := 0; try < 100; try++ {
		name := fmt.Sprintf("w%d-f%d-%d.bin", w.id, seq, try)
		w.named[name] = data
		f, err := w.c.client(w.rng.IntN(w.c.size())).Files.New(context.Background(), openai.FileNewParams{
			File: openai.File(bytes.NewReader(data), name, "application/octet-stream"), Purpose: "user_data",
		})
		if err == nil {
			w.files[f.ID] = data
			return nil
		}
		if !transient(err) {
			return fmt.Errorf("file %s: %w", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("file of writer %d, op %d: never made", w.id, seq)
}

// deleteOne deletes one of the writer's Files.
func (w *crashWriter) deleteOne() error {
	for id := range w.files {
		tried := false
		err := w.c.retryCall(w.rng, func(cl *openai.Client) error {
			_, err := cl.Files.Delete(context.Background(), id)
			var e *openai.Error
			if tried && errors.As(err, &e) && e.StatusCode == 404 {
				return nil // a try whose answer was lost deleted it
			}
			tried = true
			return err
		})
		if err != nil {
			return fmt.Errorf("delete %s: %w", id, err)
		}
		delete(w.files, id)
		w.deleted = append(w.deleted, id)
		return nil
	}
	return nil
}

// upload makes a File as an upload of 1 to 3 parts, now and then one large
// enough for a multipart upload to S3, sent through random instances and
// completed in order, with md5 half the time.
func (w *crashWriter) upload(seq int) error {
	ctx := context.Background()
	var pieces [][]byte
	var data []byte
	for range 1 + w.rng.IntN(3) {
		n := 1 + w.rng.IntN(256<<10)
		if w.rng.IntN(20) == 0 {
			n = 9 << 20
		}
		p := pseudoRandom(n, w.rng.Uint32())
		pieces = append(pieces, p)
		data = append(data, p...)
	}
	name := fmt.Sprintf("w%d-u%d.bin", w.id, seq)
	w.named[name] = data
	var u *openai.Upload
	err := w.c.retryCall(w.rng, func(cl *openai.Client) error {
		var err error
		// A lost answer leaves a pending Upload that expires: no File.
		u, err = cl.Uploads.New(ctx, openai.UploadNewParams{Bytes: int64(len(data)), Filename: name, MimeType: "application/octet-stream", Purpose: "user_data"})
		return err
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	ids := make([]string, len(pieces))
	for i, p := range pieces {
		err := w.c.retryCall(w.rng, func(cl *openai.Client) error {
			part, err := cl.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: bytes.NewReader(p)})
			if err == nil {
				ids[i] = part.ID
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("part %d of %s: %w", i, u.ID, err)
		}
	}
	params := openai.UploadCompleteParams{PartIDs: ids}
	if w.rng.IntN(2) == 0 {
		params.Md5 = openai.String(md5Hex(data))
	}
	var done *openai.Upload
	err = w.c.retryCall(w.rng, func(cl *openai.Client) error {
		var err error
		done, err = cl.Uploads.Complete(ctx, u.ID, params)
		return err
	})
	if err != nil {
		return fmt.Errorf("complete %s: %w", u.ID, err)
	}
	if done.File.Bytes != int64(len(data)) {
		return fmt.Errorf("complete %s: a File of %d bytes, want %d", u.ID, done.File.Bytes, len(data))
	}
	w.files[done.File.ID] = data
	return nil
}
