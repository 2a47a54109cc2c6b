// Package storetest holds the conformance suites that every implementation of
// the silo store interfaces runs, so that the in-memory fakes and the real
// backends are held to one contract.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/silo-dev/silo"
)

// BlobStore runs the conformance suite of silo.BlobStore, and of silo.BlobLister
// when the store implements it. open returns a fresh, empty store on every call;
// the suite closes each store it opens.
func BlobStore(t *testing.T, open func(t *testing.T) silo.BlobStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s silo.BlobStore)
	}{
		{"RoundTrip", testBlobRoundTrip},
		{"KeyPrefixOfAnother", testBlobKeyPrefix},
		{"OpenRange", testBlobOpenRange},
		{"OpenMissing", testBlobOpenMissing},
		{"Overwrite", testBlobOverwrite},
		{"Delete", testBlobDelete},
		{"InvalidKey", testBlobInvalidKey},
		{"PutReaderFails", testBlobPutReaderFails},
		{"PutCancelled", testBlobPutCancelled},
		{"ConcurrentPut", testBlobConcurrentPut},
		{"List", testBlobList},
		{"AbortUnfinished", testBlobAbortUnfinished},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

func testBlobRoundTrip(t *testing.T, s silo.BlobStore) {
	for _, tc := range []struct {
		name string
		key  string
		size int
	}{
		{"Empty", "empty", 0},
		{"Small", "p/small", 11},
		{"SeveralMiB", "p/abcdefghijklmnop/large", 5<<20 + 123},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := randomBytes(tc.size, uint64(tc.size))
			putBlob(t, s, tc.key, data)
			checkBlob(t, s, tc.key, 0, -1, data)
		})
	}
}

// testBlobKeyPrefix stores keys that are prefixes of one another, though not
// parent paths (see silo.BlobStore): a store that maps segments to
// directories must still keep them apart.
func testBlobKeyPrefix(t *testing.T, s silo.BlobStore) {
	keys := []string{"a/b", "a/bc", "a/b-c", "ab", "a_b", "A", "a-b/c"}
	for i, k := range keys {
		putBlob(t, s, k, []byte(k+"!"+string(rune('0'+i))))
	}
	for i, k := range keys {
		checkBlob(t, s, k, 0, -1, []byte(k+"!"+string(rune('0'+i))))
	}
}

func testBlobOpenRange(t *testing.T, s silo.BlobStore) {
	const size = 3<<20 + 7 // spans several 1 MiB buffers
	data := randomBytes(size, 42)
	putBlob(t, s, "r/blob", data)
	for _, tc := range []struct {
		name           string
		offset, length int64
	}{
		{"Whole", 0, -1},
		{"Prefix", 0, 10},
		{"Middle", 10, 20},
		{"AcrossMiB", 1<<20 - 5, 1<<20 + 10},
		{"ToEnd", size - 100, -1},
		{"LengthZero", 17, 0},
		{"LengthPastEnd", size - 5, 10},
		{"LengthExactlyToEnd", size - 5, 5},
		{"OffsetAtEnd", size, -1},
		{"OffsetAtEndWithLength", size, 5},
		{"OffsetPastEnd", size + 100, -1},
		{"OffsetPastEndWithLength", size + 100, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkBlob(t, s, "r/blob", tc.offset, tc.length, window(data, tc.offset, tc.length))
		})
	}
}

func testBlobOpenMissing(t *testing.T, s silo.BlobStore) {
	ctx := context.Background()
	_, err := s.Open(ctx, "never/stored", 0, -1)
	wantCode(t, err, silo.ENOTFOUND)

	putBlob(t, s, "other", []byte("x"))
	_, err = s.Open(ctx, "never/stored", 0, -1)
	wantCode(t, err, silo.ENOTFOUND)
}

func testBlobOverwrite(t *testing.T, s silo.BlobStore) {
	putBlob(t, s, "o/key", randomBytes(2<<20, 1))
	second := []byte("shorter than the first")
	putBlob(t, s, "o/key", second)
	checkBlob(t, s, "o/key", 0, -1, second)
	if l, ok := s.(silo.BlobLister); ok {
		checkListed(t, l, []string{"o/key"})
	}
}

func testBlobDelete(t *testing.T, s silo.BlobStore) {
	ctx := context.Background()
	if err := s.Delete(ctx, "never/stored"); err != nil {
		t.Fatalf("Delete of a missing key: got %v, want nil", err)
	}
	putBlob(t, s, "d/key", []byte("bytes"))
	putBlob(t, s, "d/kept", []byte("kept"))
	for i := range 2 {
		if err := s.Delete(ctx, "d/key"); err != nil {
			t.Fatalf("Delete #%d: got %v, want nil", i+1, err)
		}
	}
	_, err := s.Open(ctx, "d/key", 0, -1)
	wantCode(t, err, silo.ENOTFOUND)
	checkBlob(t, s, "d/kept", 0, -1, []byte("kept"))
	if l, ok := s.(silo.BlobLister); ok {
		checkListed(t, l, []string{"d/kept"})
	}
}

// testBlobInvalidKey checks that keys outside silo.ValidBlobKey are refused by
// every method: a key must never name a path outside the store.
func testBlobInvalidKey(t *testing.T, s silo.BlobStore) {
	ctx := context.Background()
	for _, key := range []string{
		"", "/", "a/", "/a", "a//b", ".", "..", "../a", "a/../b", "a/./b",
		"a.b", "a b", "a\\b", "a\x00b", "ü", "a:b", "~",
	} {
		if silo.ValidBlobKey(key) {
			t.Fatalf("silo.ValidBlobKey(%q) = true; the suite expects it invalid", key)
		}
		_, err := s.Put(ctx, key, bytes.NewReader([]byte("x")))
		wantCode(t, err, silo.EINVALID)
		_, err = s.Open(ctx, key, 0, -1)
		wantCode(t, err, silo.EINVALID)
		wantCode(t, s.Delete(ctx, key), silo.EINVALID)
	}
	if l, ok := s.(silo.BlobLister); ok {
		checkListed(t, l, nil)
	}
}

// putBlob stores data under key and checks the size Put reports.
func putBlob(t *testing.T, s silo.BlobStore, key string, data []byte) {
	t.Helper()
	n, err := s.Put(context.Background(), key, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	if n != int64(len(data)) {
		t.Fatalf("Put(%q) = %d bytes, want %d", key, n, len(data))
	}
}

// checkBlob reads the range twice, once through Read and once through io.Copy
// (which takes the reader's io.WriterTo when it has one), and compares both.
func checkBlob(t *testing.T, s silo.BlobStore, key string, offset, length int64, want []byte) {
	t.Helper()
	for _, via := range []string{"Read", "io.Copy"} {
		rc, err := s.Open(context.Background(), key, offset, length)
		if err != nil {
			t.Fatalf("Open(%q, %d, %d): %v", key, offset, length, err)
		}
		var got []byte
		if via == "Read" {
			got, err = io.ReadAll(onlyReader{rc})
		} else {
			var buf bytes.Buffer
			_, err = io.Copy(&buf, rc)
			got = buf.Bytes()
		}
		if cerr := rc.Close(); cerr != nil {
			t.Errorf("Close of Open(%q, %d, %d): %v", key, offset, length, cerr)
		}
		if err != nil {
			t.Fatalf("%s of Open(%q, %d, %d): %v", via, key, offset, length, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s of Open(%q, %d, %d): got %d bytes %s, want %d bytes %s",
				via, key, offset, length, len(got), head(got), len(want), head(want))
		}
	}
}

// onlyReader hides every method but Read, so io.ReadAll exercises Read itself.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// window is the part of data that Open(offset, length) must return: reading
// stops at the end of the blob, and an offset at or past the end reads nothing.
func window(data []byte, offset, length int64) []byte {
	size := int64(len(data))
	if offset >= size {
		return []byte{}
	}
	end := size
	if length >= 0 && offset+length < size {
		end = offset + length
	}
	return data[offset:end]
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := silo.ErrorCode(err); got != code {
		t.Fatalf("error code: got %q (%v), want %q", got, err, code)
	}
}

// randomBytes returns n bytes from a seeded generator, so a failure repeats.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)}).Read(b)
	return b
}

// head shows the first bytes of b, enough to tell two blobs apart.
func head(b []byte) string {
	if len(b) > 16 {
		return fmt.Sprintf("%x...", b[:16])
	}
	return fmt.Sprintf("%x", b)
}

// testBlobAbortUnfinished checks a store that can drop unfinished Puts: a
// cancelled large Put leaves nothing that a later abort trips on, and the
// abort drops no finished blob, under its prefixes or not.
func testBlobAbortUnfinished(t *testing.T, s silo.BlobStore) {
	a, ok := s.(silo.UnfinishedAborter)
	if !ok {
		t.Skip("the store cannot abort unfinished Puts")
	}
	ctx := context.Background()
	for _, key := range []string{"parts/done", "other/done"} {
		if _, err := s.Put(ctx, key, bytes.NewReader([]byte(key))); err != nil {
			t.Fatal(err)
		}
	}
	// A Put cut off after more than one buffer's worth of bytes leaves an
	// unfinished upload behind in stores that stream in parts.
	cctx, cancel := context.WithCancel(ctx)
	r := io.MultiReader(bytes.NewReader(make([]byte, 12<<20)), readerFunc(func([]byte) (int, error) {
		cancel()
		return 0, context.Canceled
	}))
	if _, err := s.Put(cctx, "parts/cut", r); err == nil {
		t.Fatal("a Put whose reader failed succeeded")
	}
	if _, err := a.AbortUnfinished(ctx, []string{"parts/"}, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("AbortUnfinished: %v", err)
	}
	n, err := a.AbortUnfinished(ctx, []string{"parts/"}, time.Now().Add(time.Minute))
	if err != nil || n != 0 {
		t.Errorf("a second AbortUnfinished: got %d, %v; want 0, nil", n, err)
	}
	for _, key := range []string{"parts/done", "other/done"} {
		rc, err := s.Open(ctx, key, 0, -1)
		if err != nil {
			t.Errorf("%s after AbortUnfinished: %v", key, err)
			continue
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != key {
			t.Errorf("%s: got %q", key, b)
		}
	}
	if _, err := s.Open(ctx, "parts/cut", 0, -1); silo.ErrorCode(err) != silo.ENOTFOUND {
		t.Errorf("the cut Put: got %v, want not found", err)
	}
}

// readerFunc is a function that reads.
type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
