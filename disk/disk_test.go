package disk_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"testing/iotest"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/disk"
	"github.com/silo-dev/silo/storetest"
)

func TestStore(t *testing.T) {
	storetest.BlobStore(t, func(t *testing.T) silo.BlobStore { return openStore(t, t.TempDir()) })
}

func TestOpen_RemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	put(t, s, "kept", []byte("kept"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// What a crash in the middle of Puts leaves behind.
	for _, name := range []string{"put-123", "put-456"} {
		if err := os.WriteFile(filepath.Join(dir, "tmp", name), []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp", "odd", "dir"), 0o750); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, dir)
	left, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("tmp after Open: got %d entries (%v), want none", len(left), left[0].Name())
	}
	if got := read(t, s, "kept", 0, -1); string(got) != "kept" {
		t.Errorf("blob after reopening: got %q, want %q", got, "kept")
	}
	var keys []string
	err = s.List(context.Background(), func(key string, _ time.Time) error {
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if !slices.Equal(keys, []string{"kept"}) {
		t.Errorf("List after reopening: got %q, want %q", keys, []string{"kept"})
	}
}

func TestOpen_InUse(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the directory lock is taken on Linux only")
	}
	dir := t.TempDir()
	openStore(t, dir)
	if s, err := disk.Open(dir, disk.Options{}); err == nil {
		s.Close()
		t.Fatal("second Open of a directory in use: got nil error, want one")
	}
}

// TestStore_KeysStayInDir tries keys that would name paths outside the store
// if they were joined to its directory, and checks that none is accepted and
// nothing appears beside the store.
func TestStore_KeysStayInDir(t *testing.T) {
	parent := t.TempDir()
	s := openStore(t, filepath.Join(parent, "store"))
	ctx := context.Background()
	for _, key := range []string{
		"../escape", "../../escape", "a/../../escape", "/tmp/escape", "..", ".",
		"tmp/../../escape", "blobs/..", `..\escape`, "a/./b", "escape/", "LOCK/..",
	} {
		if _, err := s.Put(ctx, key, bytes.NewReader([]byte("x"))); silo.ErrorCode(err) != silo.EINVALID {
			t.Errorf("Put(%q): got %v, want code %q", key, err, silo.EINVALID)
		}
		if err := s.Delete(ctx, key); silo.ErrorCode(err) != silo.EINVALID {
			t.Errorf("Delete(%q): got %v, want code %q", key, err, silo.EINVALID)
		}
	}
	long := string(bytes.Repeat([]byte("k"), 256))
	if _, err := s.Put(ctx, long, bytes.NewReader([]byte("x"))); silo.ErrorCode(err) != silo.EINVALID {
		t.Errorf("Put of a 256-byte key: got %v, want code %q", err, silo.EINVALID)
	}
	put(t, s, string(bytes.Repeat([]byte("k"), 255)), []byte("longest"))

	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "store" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("beside the store: got %q, want only %q", names, "store")
	}
}

// TestStore_FailedPutLeavesNoTemp checks that a Put that fails removes its
// temp file at once rather than leaving it for the next Open.
func TestStore_FailedPutLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	errBody := errors.New("body broke")
	body := io.MultiReader(bytes.NewReader(make([]byte, 3<<20)), iotest.ErrReader(errBody))
	if _, err := s.Put(context.Background(), "parts/part_broken", body); !errors.Is(err, errBody) {
		t.Fatalf("Put: got %v, want %v", err, errBody)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, "parts/part_cancelled", bytes.NewReader([]byte("x"))); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Put: got %v, want %v", err, context.Canceled)
	}
	left, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("tmp after failed Puts: got %d entries, want none", len(left))
	}
}

func TestStore_NegativeOffset(t *testing.T) {
	s := openStore(t, t.TempDir())
	put(t, s, "k", []byte("bytes"))
	if _, err := s.Open(context.Background(), "k", -1, -1); silo.ErrorCode(err) != silo.EINVALID {
		t.Errorf("Open at offset -1: got %v, want code %q", err, silo.EINVALID)
	}
}

func TestStore_ReadToEnd(t *testing.T) {
	s := openStore(t, t.TempDir())
	data := make([]byte, 5<<20+3)
	for i := range data {
		data[i] = byte(i * 7)
	}
	put(t, s, "parts/part_end", data)
	for _, tc := range []struct {
		name           string
		offset, length int64
	}{
		{"RestOfBlob", 1<<20 + 1, -1},
		{"LengthBeyondEnd", 4 << 20, 8 << 20},
		{"LastByte", int64(len(data)) - 1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := read(t, s, "parts/part_end", tc.offset, tc.length)
			if want := data[tc.offset:]; !bytes.Equal(got, want) {
				t.Errorf("got %d bytes, want the last %d", len(got), len(want))
			}
		})
	}
}

// openStore opens the store in dir and closes it when the test ends.
func openStore(t *testing.T, dir string) *disk.Store {
	t.Helper()
	s, err := disk.Open(dir, disk.Options{})
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func put(t *testing.T, s *disk.Store, key string, data []byte) {
	t.Helper()
	if _, err := s.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func read(t *testing.T, s *disk.Store, key string, offset, length int64) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key, offset, length)
	if err != nil {
		t.Fatalf("Open(%q, %d, %d): %v", key, offset, length, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading Open(%q, %d, %d): %v", key, offset, length, err)
	}
	return got
}
