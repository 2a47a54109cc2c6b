package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/silo-dev/silo"
)

// errReader is the error the suite's failing readers return; a Put must hand
// it back so that the caller can tell a client's broken body from a store fault.
var errReader = errors.New("storetest: the reader failed on purpose")

func testBlobPutReaderFails(t *testing.T, s silo.BlobStore) {
	for _, tc := range []struct {
		name     string
		after    int
		withData bool
		writerTo bool
	}{
		{"AtOnce", 0, false, false},
		{"AfterFewBytes", 10, false, false},
		{"AfterSeveralMiB", 3<<20 + 17, false, false},
		{"WithLastBytes", 1<<20 + 1, true, false},
		{"WriterToAfterSeveralMiB", 3<<20 + 17, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "fail/" + tc.name
			var r io.Reader = &failingReader{data: randomBytes(tc.after, 7), err: errReader, withData: tc.withData}
			if tc.writerTo {
				r = &failingWriterTo{r.(*failingReader)}
			}
			_, err := s.Put(context.Background(), key, r)
			if !errors.Is(err, errReader) {
				t.Fatalf("Put with a failing reader: got %v, want %v", err, errReader)
			}
			checkAbsent(t, s, key)
		})
	}
}

// failingReader returns data, then err: with the last bytes when withData is
// set (as io.Reader allows), else on the call after them.
type failingReader struct {
	data     []byte
	err      error
	withData bool
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	if len(r.data) == 0 && r.withData {
		return n, r.err
	}
	return n, nil
}

// failingWriterTo is a failingReader that is also an io.WriterTo, as readers
// that hold their bytes are, for stores that let such readers write themselves.
type failingWriterTo struct{ *failingReader }

func (r *failingWriterTo) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for len(r.data) > 0 {
		m, err := w.Write(r.data[:min(len(r.data), 64<<10)])
		n += int64(m)
		r.data = r.data[m:]
		if err != nil {
			return n, err
		}
	}
	return n, r.err
}

func testBlobPutCancelled(t *testing.T, s silo.BlobStore) {
	t.Run("Before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := s.Put(ctx, "cancel/before", &failingReader{data: []byte("data"), err: io.EOF})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put with a cancelled context: got %v, want %v", err, context.Canceled)
		}
		checkAbsent(t, s, "cancel/before")
	})
	for _, writerTo := range []bool{false, true} {
		name := "Midway"
		if writerTo {
			name = "MidwayWriterTo"
		}
		t.Run(name, func(t *testing.T) {
			// The reader cancels the context after 2 MiB and then goes on to
			// a clean end, so only the store's own check of ctx can stop the Put.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var r io.Reader = &cancellingReader{data: randomBytes(4<<20, 9), at: 2 << 20, cancel: cancel}
			if writerTo {
				r = struct {
					io.Reader
					io.WriterTo
				}{r, writerToOf(r)}
			}
			key := "cancel/" + name
			_, err := s.Put(ctx, key, r)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Put cancelled midway: got %v, want %v", err, context.Canceled)
			}
			checkAbsent(t, s, key)
		})
	}
}

// cancellingReader returns data to its end, calling cancel once at bytes in.
type cancellingReader struct {
	data   []byte
	read   int
	at     int
	cancel func()
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	if r.read >= len(r.data) {
		return 0, io.EOF
	}
	if r.read >= r.at && r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
	end := min(len(r.data), r.read+len(p))
	if r.read < r.at {
		end = min(end, r.at)
	}
	n := copy(p, r.data[r.read:end])
	r.read += n
	return n, nil
}

// writerToOf makes an io.WriterTo of r that copies in 64 KiB writes.
func writerToOf(r io.Reader) io.WriterTo {
	return writerToFunc(func(w io.Writer) (int64, error) {
		return io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, make([]byte, 64<<10))
	})
}

type writerToFunc func(w io.Writer) (int64, error)

func (f writerToFunc) WriteTo(w io.Writer) (int64, error) { return f(w) }

func testBlobConcurrentPut(t *testing.T, s silo.BlobStore) {
	const n = 8
	blobs := make(map[string][]byte, n)
	for i := range n {
		blobs[fmt.Sprintf("conc/%d", i)] = randomBytes(i*300_001, uint64(100+i))
	}
	var wg sync.WaitGroup
	for key, data := range blobs {
		wg.Go(func() {
			got, err := s.Put(context.Background(), key, &failingReader{data: data, err: io.EOF})
			if err != nil {
				t.Errorf("Put(%q): %v", key, err)
			} else if got != int64(len(data)) {
				t.Errorf("Put(%q) = %d bytes, want %d", key, got, len(data))
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for key, data := range blobs {
		checkBlob(t, s, key, 0, -1, data)
	}
	if l, ok := s.(silo.BlobLister); ok {
		checkListed(t, l, slices.Collect(maps.Keys(blobs)))
	}
}

// listSlack is how far a stored time may lie outside the test's own clock
// readings: file systems and object stores keep coarse times.
const listSlack = time.Minute

func testBlobList(t *testing.T, s silo.BlobStore) {
	l, ok := s.(silo.BlobLister)
	if !ok {
		t.Skip("the store is not a silo.BlobLister")
	}
	checkListed(t, l, nil)

	keys := []string{"l/one", "l/two", "l/deep/er/key", "top", "l/x_-Y9"}
	before := time.Now()
	for _, k := range keys {
		putBlob(t, s, k, []byte(k))
	}
	after := time.Now()
	got := checkListed(t, l, keys)
	for k, stored := range got {
		if stored.Before(before.Add(-listSlack)) || stored.After(after.Add(listSlack)) {
			t.Errorf("List: %q stored at %v, want between %v and %v", k, stored, before, after)
		}
	}

	if err := s.Delete(context.Background(), "l/two"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	checkListed(t, l, slices.DeleteFunc(keys, func(k string) bool { return k == "l/two" }))

	t.Run("StopsOnError", func(t *testing.T) {
		errStop := errors.New("storetest: stop listing")
		calls := 0
		err := l.List(context.Background(), func(string, time.Time) error {
			calls++
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Errorf("List with fn failing: got %v, want %v", err, errStop)
		}
		if calls != 1 {
			t.Errorf("List with fn failing: fn called %d times, want 1", calls)
		}
	})
}

// checkListed checks that List reports exactly the keys want, each once, and
// returns their stored times.
func checkListed(t *testing.T, l silo.BlobLister, want []string) map[string]time.Time {
	t.Helper()
	got := map[string]time.Time{}
	err := l.List(context.Background(), func(key string, stored time.Time) error {
		if _, dup := got[key]; dup {
			t.Errorf("List: %q reported twice", key)
		}
		got[key] = stored
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	gotKeys := slices.Sorted(maps.Keys(got))
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(gotKeys, want) {
		t.Fatalf("List: got keys %q, want %q", gotKeys, want)
	}
	return got
}

// checkAbsent checks that nothing is stored, or listed, under key.
func checkAbsent(t *testing.T, s silo.BlobStore, key string) {
	t.Helper()
	rc, err := s.Open(context.Background(), key, 0, -1)
	if err == nil {
		rc.Close()
	}
	wantCode(t, err, silo.ENOTFOUND)
	if l, ok := s.(silo.BlobLister); ok {
		err := l.List(context.Background(), func(k string, _ time.Time) error {
			if k == key {
				t.Errorf("List: reports %q, which must be absent", key)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
	}
}
