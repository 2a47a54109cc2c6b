package disk_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/silo-dev/silo/disk"
)

// readRanges are ranges of a blob of readSize bytes, with the bytes they read.
var readRanges = []struct {
	name           string
	offset, length int64
	want           int64
}{
	{"Whole", 0, -1, readSize},
	{"Middle", 1<<20 + 3, 2<<20 + 5, 2<<20 + 5},
	{"ToEnd", 3 << 20, -1, readSize - 3<<20},
	{"PastEnd", readSize - 10, 100, 10},
	{"Empty", readSize, -1, 0},
}

const readSize = 4<<20 + 11

// readBlob returns a store holding the blob "parts/part_read" of readSize
// bytes, and the bytes.
func readBlob(t *testing.T) (*disk.Store, []byte) {
	t.Helper()
	s := openStore(t, t.TempDir())
	data := make([]byte, readSize)
	for i := range data {
		data[i] = byte(i*31 + i>>12)
	}
	put(t, s, "parts/part_read", data)
	return s, data
}

// openRange opens a range of "parts/part_read", closed when the test ends.
func openRange(t *testing.T, s *disk.Store, offset, length int64) io.ReadCloser {
	t.Helper()
	rc, err := s.Open(context.Background(), "parts/part_read", offset, length)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { rc.Close() })
	return rc
}

// TestBlobReader_WriteTo checks the shape that makes sendfile possible: an
// io.ReaderFrom destination is handed an *io.LimitedReader of the *os.File,
// positioned at the offset, limited to the range.
func TestBlobReader_WriteTo(t *testing.T) {
	s, data := readBlob(t)
	for _, tc := range readRanges {
		t.Run(tc.name, func(t *testing.T) {
			spy := &readerFromSpy{}
			n, err := io.Copy(spy, openRange(t, s, tc.offset, tc.length))
			if err != nil {
				t.Fatalf("io.Copy: %v", err)
			}
			if spy.calls != 1 {
				t.Fatalf("ReadFrom calls: got %d, want 1", spy.calls)
			}
			if spy.file == nil {
				t.Fatalf("ReadFrom source: got %s, want *io.LimitedReader of *os.File", spy.src)
			}
			if spy.limit != tc.want {
				t.Errorf("LimitedReader.N: got %d, want %d", spy.limit, tc.want)
			}
			want := data[tc.offset : tc.offset+tc.want]
			if n != tc.want || !bytes.Equal(spy.buf.Bytes(), want) {
				t.Errorf("copied: got %d bytes (%d reported), want %d", spy.buf.Len(), n, len(want))
			}
		})
	}
}

// readerFromSpy records what ReadFrom is handed, then copies it.
type readerFromSpy struct {
	buf   bytes.Buffer
	calls int
	src   string
	file  *os.File
	limit int64
}

func (s *readerFromSpy) Write(p []byte) (int, error) { return s.buf.Write(p) }

func (s *readerFromSpy) ReadFrom(r io.Reader) (int64, error) {
	s.calls++
	s.src = fmt.Sprintf("%T", r)
	if lr, ok := r.(*io.LimitedReader); ok {
		s.limit = lr.N
		s.file, _ = lr.R.(*os.File)
	}
	return s.buf.ReadFrom(r)
}

// TestBlobReader_WriteToFileAndWriter copies ranges to an *os.File (copied in
// the kernel) and to a plain io.Writer (through a buffer).
func TestBlobReader_WriteToFileAndWriter(t *testing.T) {
	s, data := readBlob(t)
	for _, tc := range readRanges {
		t.Run(tc.name, func(t *testing.T) {
			want := data[tc.offset : tc.offset+tc.want]

			out, err := os.Create(filepath.Join(t.TempDir(), "out"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			if n, err := io.Copy(out, openRange(t, s, tc.offset, tc.length)); err != nil || n != tc.want {
				t.Fatalf("io.Copy to a file: got %d, %v; want %d, nil", n, err, tc.want)
			}
			got, err := os.ReadFile(out.Name())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("file: got %d bytes, want %d", len(got), len(want))
			}

			h := sha256.New()
			if n, err := io.Copy(h, openRange(t, s, tc.offset, tc.length)); err != nil || n != tc.want {
				t.Fatalf("io.Copy to a hash: got %d, %v; want %d, nil", n, err, tc.want)
			}
			if got, want := h.Sum(nil), sha256.Sum256(want); !bytes.Equal(got, want[:]) {
				t.Errorf("hash: got %x, want %x", got, want)
			}
		})
	}
}

// TestBlobReader_HTTP serves ranges the way a handler does, io.Copy to the
// ResponseWriter with a Content-Length (so net/http may use sendfile), and
// checks the bytes a client receives.
func TestBlobReader_HTTP(t *testing.T) {
	s, data := readBlob(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offset, _ := strconv.ParseInt(r.URL.Query().Get("offset"), 10, 64)
		length, _ := strconv.ParseInt(r.URL.Query().Get("length"), 10, 64)
		size, _ := strconv.ParseInt(r.URL.Query().Get("size"), 10, 64)
		rc, err := s.Open(r.Context(), "parts/part_read", offset, length)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer rc.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		io.Copy(w, rc)
	}))
	defer srv.Close()

	for _, tc := range readRanges {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(fmt.Sprintf("%s/?offset=%d&length=%d&size=%d", srv.URL, tc.offset, tc.length, tc.want))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("reading the body: %v", err)
			}
			if want := data[tc.offset : tc.offset+tc.want]; !bytes.Equal(got, want) {
				t.Errorf("body: got %d bytes, want %d", len(got), len(want))
			}
		})
	}
}
