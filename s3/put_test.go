package s3

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/silo-dev/silo"
)

// streamReader yields n pseudo-random bytes without holding them: reading it
// costs no memory, so a Put's own allocations can be measured.
type streamReader struct {
	rng  *rand.ChaCha8
	left int64
	// at, when left drops to it, calls hook once (to fail or cancel).
	at   int64
	hook func() error
}

func newStream(n int64) *streamReader {
	return &streamReader{rng: rand.NewChaCha8([32]byte{1}), left: n, at: -1}
}

func (r *streamReader) Read(p []byte) (int, error) {
	if r.hook != nil && r.left <= r.at {
		hook := r.hook
		r.hook = nil
		if err := hook(); err != nil {
			return 0, err
		}
	}
	if r.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	if r.at >= 0 && r.hook != nil && int64(len(p)) > r.left-r.at {
		p = p[:r.left-r.at]
	}
	r.rng.Read(p)
	r.left -= int64(len(p))
	return len(p), nil
}

// checkGone checks that nothing is stored under key and that no multipart
// upload of the store is left unfinished.
func checkGone(t *testing.T, s *Store, key string) {
	t.Helper()
	_, err := s.Open(context.Background(), key, 0, -1)
	if got := silo.ErrorCode(err); got != silo.ENOTFOUND {
		t.Errorf("Open after a failed Put: got %v, want %s", err, silo.ENOTFOUND)
	}
	// No prefix: MinIO takes one as an exact key.
	out, err := s.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	for _, u := range out.Uploads {
		if strings.HasPrefix(aws.ToString(u.Key), s.prefix) {
			t.Errorf("multipart upload of %s left unfinished, want none", aws.ToString(u.Key))
		}
	}
}

// TestPut_MultipartFails fails Puts of many parts midway, by the reader and by
// the context: the multipart upload is aborted, and nothing is stored.
func TestPut_MultipartFails(t *testing.T) {
	s := open(t, freshURL(t), Options{PartSize: MinPartSize})
	errBroken := errors.New("client went away")
	t.Run("Reader", func(t *testing.T) {
		r := newStream(30 << 20)
		r.at, r.hook = 30<<20-(17<<20+3), func() error { return errBroken }
		if _, err := s.Put(context.Background(), "fail/reader", r); !errors.Is(err, errBroken) {
			t.Fatalf("Put with a reader failing after 17 MiB: got %v, want %v", err, errBroken)
		}
		checkGone(t, s, "fail/reader")
	})
	t.Run("Context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := newStream(30 << 20)
		r.at, r.hook = 30<<20-(12<<20), func() error { cancel(); return nil }
		if _, err := s.Put(ctx, "fail/context", r); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put cancelled after 12 MiB: got %v, want %v", err, context.Canceled)
		}
		checkGone(t, s, "fail/context")
	})
}

// TestPut_ExactParts stores blobs of exactly one and two buffers, the sizes
// where a Put must look ahead to choose between one request and several.
func TestPut_ExactParts(t *testing.T) {
	s := open(t, freshURL(t), Options{PartSize: MinPartSize})
	for _, n := range []int{MinPartSize, 2 * MinPartSize, 2*MinPartSize + 1} {
		data := make([]byte, n)
		rand.NewChaCha8([32]byte{byte(n)}).Read(data)
		got, err := s.Put(context.Background(), "exact", bytes.NewReader(data))
		if err != nil || got != int64(n) {
			t.Fatalf("Put of %d bytes: got %d, %v", n, got, err)
		}
		rc, err := s.Open(context.Background(), "exact", 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		back, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("Open of a blob of %d bytes: got %d bytes (%v) that differ", n, len(back), err)
		}
	}
}

// TestPut_Memory streams a blob far larger than a Put's buffers and checks
// that the Put allocated much less than the blob: the bytes went out as they
// came in, never all held at once.
func TestPut_Memory(t *testing.T) {
	s := open(t, freshURL(t), Options{})
	const size = 160 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := s.Put(context.Background(), "big", newStream(size))
	runtime.ReadMemStats(&after)
	if err != nil || n != size {
		t.Fatalf("Put: got %d, %v; want %d bytes", n, err, size)
	}
	// Two 8 MiB buffers, plus what the SDK allocates per request.
	const bound = 40 << 20
	if got := after.TotalAlloc - before.TotalAlloc; got > bound {
		t.Errorf("Put of %d MiB allocated %d MiB, want at most %d MiB", size>>20, got>>20, bound>>20)
	} else {
		t.Logf("Put of %d MiB allocated %.1f MiB", size>>20, float64(got)/(1<<20))
	}
	s.Delete(context.Background(), "big")
}

// TestAbortUnfinished leaves multipart uploads unfinished, as a process
// killed during a Put does, and checks that AbortUnfinished spares one while
// it is young, removes it once it is old enough, and never touches an upload
// outside the key prefixes it is given (another application's, in a shared
// bucket).
func TestAbortUnfinished(t *testing.T) {
	s := open(t, freshURL(t), Options{})
	ctx := context.Background()
	for _, key := range []string{"killed/midway", "other/app"} {
		_, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
			Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key)),
		})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
	}
	mine := []string{"killed/"}
	if n, err := s.AbortUnfinished(ctx, mine, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("AbortUnfinished of uploads older than an hour: got %d, %v; want 0", n, err)
	}
	if n, err := s.AbortUnfinished(ctx, mine, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("AbortUnfinished of every upload under killed/: got %d, %v; want 1", n, err)
	}
	out, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	other := 0
	for _, u := range out.Uploads {
		if aws.ToString(u.Key) == s.objectKey("other/app") {
			other++
			s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(s.bucket), Key: u.Key, UploadId: u.UploadId})
		}
	}
	if other != 1 {
		t.Errorf("the upload outside the given prefixes: %d left, want it untouched", other)
	}
	checkGone(t, s, "killed/midway")
}
