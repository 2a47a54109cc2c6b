package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// cluster is several `silo serve` processes over one database and one
// bucket, any of which the test may SIGKILL and start again.
type cluster struct {
	t     *testing.T
	flags []string

	mu    sync.Mutex
	procs []*process
}

// startCluster starts n instances with the flags.
func startCluster(t *testing.T, n int, flags ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, flags: flags}
	for range n {
		c.procs = append(c.procs, c.start())
	}
	return c
}

func (c *cluster) start() *process {
	c.t.Helper()
	return startProcess(c.t, c.t.TempDir(), c.flags...)
}

// restart SIGKILLs instance i and starts another in its place; requests in
// flight through it fail. It must run on the test's goroutine.
func (c *cluster) restart(i int) {
	c.t.Helper()
	c.mu.Lock()
	old := c.procs[i]
	c.mu.Unlock()
	old.kill()
	p := c.start()
	c.mu.Lock()
	c.procs[i] = p
	c.mu.Unlock()
}

// instance returns instance i as it is now.
func (c *cluster) instance(i int) *process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[i]
}

// client returns a client of instance i with a bounded wait for answers.
func (c *cluster) client(i int) *openai.Client {
	return c.instance(i).client(option.WithRequestTimeout(60 * time.Second))
}

// size is the number of instances.
func (c *cluster) size() int { return len(c.procs) }

// transient reports whether err is what a killed instance or a cut backing
// service gives, so that the call may be tried again: no answer, or 503.
func transient(err error) bool {
	var e *openai.Error
	if !errors.As(err, &e) {
		return true
	}
	return e.StatusCode == 503
}

// retryCall calls f through random instances until it succeeds or fails
// other than transiently, a bounded number of times, and returns its last
// error.
func (c *cluster) retryCall(rng *rand.Rand, f func(cl *openai.Client) error) error {
	var err error
	for range 100 {
		if err = f(c.client(rng.IntN(c.size()))); err == nil || !transient(err) {
			return err
		}
		time.Sleep(time.Duration(50+rng.IntN(100)) * time.Millisecond)
	}
	return err
}

// blobSets returns the blob keys the database of pgURL knows (of parts,
// of Files not deleted, of garbage) and the keys of the objects under the
// prefix of blobsURL, with that prefix cut off, and the number of multipart
// uploads unfinished under it.
func blobSets(t *testing.T, pgURL, blobsURL string) (known, stored []string, unfinished int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgURL)
	fatalIf(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `
		SELECT blob_key FROM parts
		UNION SELECT key FROM garbage
		UNION SELECT b.key FROM file_blobs AS b JOIN files AS f ON f.seq = b.file_seq WHERE NOT f.deleted`)
	fatalIf(t, err)
	known, err = pgx.CollectRows(rows, pgx.RowTo[string])
	fatalIf(t, err)

	u, err := url.Parse(blobsURL)
	fatalIf(t, err)
	sc := s3Client(t, u.Query().Get("endpoint"))
	prefix := strings.Trim(u.Path, "/") + "/"
	p := s3.NewListObjectsV2Paginator(sc, &s3.ListObjectsV2Input{Bucket: aws.String(u.Host), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		fatalIf(t, err)
		for _, o := range page.Contents {
			stored = append(stored, strings.TrimPrefix(aws.ToString(o.Key), prefix))
		}
	}
	// The whole bucket, as the store lists it (a prefix means one key to some servers).
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(u.Host)}
	for {
		out, err := sc.ListMultipartUploads(ctx, in)
		fatalIf(t, err)
		for _, up := range out.Uploads {
			if strings.HasPrefix(aws.ToString(up.Key), prefix) {
				unfinished++
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	slices.Sort(known)
	slices.Sort(stored)
	return known, stored, unfinished
}

// waitSwept waits, a bounded time, until the bucket holds exactly the blobs
// the database knows and no unfinished multipart upload, as the instances'
// sweeps (and reapers) should make it; it fails the test if they never do,
// naming what is left or missing. It returns the number of blobs, and how
// many objects and unfinished uploads no record named when it began.
func waitSwept(t *testing.T, pgURL, blobsURL string, bound time.Duration) (blobs, orphans int) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for i := 0; ; i++ {
		known, stored, unfinished := blobSets(t, pgURL, blobsURL)
		if i == 0 {
			orphans = unfinished
			for _, k := range stored {
				if _, ok := slices.BinarySearch(known, k); !ok {
					orphans++
				}
			}
		}
		if slices.Equal(known, stored) && unfinished == 0 {
			return len(known), orphans
		}
		if time.Now().After(deadline) {
			var missing, extra []string
			for _, k := range known {
				if _, ok := slices.BinarySearch(stored, k); !ok {
					missing = append(missing, k)
				}
			}
			for _, k := range stored {
				if _, ok := slices.BinarySearch(known, k); !ok {
					extra = append(extra, k)
				}
			}
			t.Fatalf("after %v of sweeps: %d blobs known to the database are not in the bucket (lost: %v); %d objects no record names (%v); %d unfinished multipart uploads",
				bound, len(missing), missing, len(extra), extra, unfinished)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
