package disk_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/disk"
	"github.com/silo-dev/silo/storetest"
)

// The suite holds with a reserve, read from the real volume.
func TestStore_WithReserve(t *testing.T) {
	storetest.BlobStore(t, func(t *testing.T) silo.BlobStore {
		return openStoreWith(t, t.TempDir(), disk.Options{MinFreeSpace: 1 << 20})
	})
}

// volume plays the free space of a volume for a store.
type volume struct {
	mu    sync.Mutex
	free  int64
	reads int
	// after, when set, is the free space from the read numbered afterRead on.
	after     func(read int) int64
	afterRead int
}

func (v *volume) FreeSpace(string) (int64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.reads++
	if v.after != nil && v.reads >= v.afterRead {
		return v.after(v.reads), nil
	}
	return v.free, nil
}

func (v *volume) set(free int64) {
	v.mu.Lock()
	v.free, v.after = free, nil
	v.mu.Unlock()
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func wantFull(t *testing.T, err error, free, reserve int64) {
	t.Helper()
	if silo.ErrorCode(err) != silo.ESTORAGEFULL {
		t.Fatalf("got %v, want code %q", err, silo.ESTORAGEFULL)
	}
	want := fmt.Sprintf("The data volume has %d bytes free, less than the reserve of %d bytes (--min-free-space)", free, reserve)
	if msg := silo.ErrorMessage(err); !strings.HasPrefix(msg, want) {
		t.Errorf("message: got %q, want it to start with %q", msg, want)
	}
}

func wantNoBlob(t *testing.T, s *disk.Store, dir, key string) {
	t.Helper()
	if _, err := s.Open(context.Background(), key, 0, -1); silo.ErrorCode(err) != silo.ENOTFOUND {
		t.Errorf("Open(%q) after a refused Put: got %v, want code %q", key, err, silo.ENOTFOUND)
	}
	left, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("tmp after a refused Put: got %d entries, want none", len(left))
	}
}

func TestStore_MinFreeSpace(t *testing.T) {
	const reserve = 8 << 20
	ctx := context.Background()

	t.Run("refused before the first byte", func(t *testing.T) {
		dir := t.TempDir()
		v := &volume{free: reserve - 1}
		s := openStoreWith(t, dir, disk.Options{MinFreeSpace: reserve, FreeSpace: v.FreeSpace})
		body := &countingReader{r: bytes.NewReader(make([]byte, 1<<20))}
		_, err := s.Put(ctx, "parts/part_1", body)
		wantFull(t, err, reserve-1, reserve)
		if body.n != 0 {
			t.Errorf("the refused Put read %d bytes of its body, want 0", body.n)
		}
		wantNoBlob(t, s, dir, "parts/part_1")

		// Space freed: the next Put is taken, with no reopening.
		v.set(reserve)
		put(t, s, "parts/part_2", []byte("room again"))
		if got := read(t, s, "parts/part_2", 0, -1); string(got) != "room again" {
			t.Errorf("blob after space came back: got %q", got)
		}
	})

	t.Run("stopped while writing", func(t *testing.T) {
		dir := t.TempDir()
		// Plenty at first; from the third reading on, the parallel writes of
		// others have eaten into the reserve.
		v := &volume{free: 1 << 40, afterRead: 3, after: func(int) int64 { return 1 << 20 }}
		s := openStoreWith(t, dir, disk.Options{MinFreeSpace: reserve, FreeSpace: v.FreeSpace})
		v.mu.Lock()
		v.reads = 0 // Open read it too
		v.mu.Unlock()
		const size = 64 << 20
		// Not an io.WriterTo: the store reads it into its buffer, as it
		// reads a request body.
		body := &countingReader{r: io.LimitReader(zeros{}, size)}
		_, err := s.Put(ctx, "parts/part_big", body)
		// 1 MiB free and the ballast of 4 MiB, which is part of the reserve.
		wantFull(t, err, 5<<20, reserve)
		if body.n >= size || body.n > 16<<20 {
			t.Errorf("the Put read %d bytes before it stopped, want fewer than 16 MiB of %d", body.n, size)
		}
		wantNoBlob(t, s, dir, "parts/part_big")

		// The same from a reader that writes itself.
		v.set(1 << 40)
		v.mu.Lock()
		v.reads, v.afterRead, v.after = 0, 3, func(int) int64 { return 0 }
		v.mu.Unlock()
		_, err = s.Put(ctx, "parts/part_big2", bytes.NewReader(make([]byte, 32<<20)))
		wantFull(t, err, 4<<20, reserve)
		wantNoBlob(t, s, dir, "parts/part_big2")
	})

	t.Run("no reserve", func(t *testing.T) {
		dir := t.TempDir()
		v := &volume{free: 0}
		s := openStoreWith(t, dir, disk.Options{FreeSpace: v.FreeSpace})
		put(t, s, "parts/part_1", []byte("no reserve, no refusal"))
		if _, err := os.Stat(filepath.Join(dir, "BALLAST")); !os.IsNotExist(err) {
			t.Errorf("BALLAST with no reserve: got %v, want none", err)
		}
		if v.reads != 0 {
			t.Errorf("free space read %d times with no reserve, want 0", v.reads)
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func ballastSize(t *testing.T, dir string) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, "BALLAST"))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestStore_Ballast(t *testing.T) {
	const reserve = 2 << 20 // a ballast of 1 MiB
	ctx := context.Background()

	t.Run("held, dropped and made again", func(t *testing.T) {
		dir := t.TempDir()
		v := &volume{free: 1 << 40}
		s := openStoreWith(t, dir, disk.Options{MinFreeSpace: reserve, FreeSpace: v.FreeSpace})
		if got := ballastSize(t, dir); got != reserve/2 {
			t.Fatalf("BALLAST after Open: %d bytes, want %d", got, reserve/2)
		}

		// The ballast counts as free space for Puts: it is part of the reserve.
		v.set(reserve / 2)
		put(t, s, "parts/part_1", []byte("x"))

		// Kept while the volume has the room asked for.
		s.DropBallast(reserve / 2)
		if got := ballastSize(t, dir); got != reserve/2 {
			t.Fatalf("BALLAST after DropBallast(%d) with %d free: %d bytes, want it kept", reserve/2, reserve/2, got)
		}
		// Dropped when it has less, it no longer counts; the volume has no
		// room to make it again.
		s.DropBallast(reserve/2 + 1)
		if got := ballastSize(t, dir); got != 0 {
			t.Fatalf("BALLAST after DropBallast: %d bytes, want none", got)
		}
		_, err := s.Put(ctx, "parts/part_2", bytes.NewReader([]byte("x")))
		wantFull(t, err, reserve/2, reserve)
		if err := s.Delete(ctx, "parts/part_1"); err != nil {
			t.Fatal(err)
		}
		if got := ballastSize(t, dir); got != 0 {
			t.Fatalf("BALLAST made on a volume with %d bytes free: %d bytes, want none", reserve/2, got)
		}
		s.DropBallast(math.MaxInt64) // dropping none is no error

		// Space comes back: the next Delete (the reaper's) makes it again.
		v.set(1 << 40)
		if err := s.Delete(ctx, "parts/part_1"); err != nil {
			t.Fatal(err)
		}
		if got := ballastSize(t, dir); got != reserve/2 {
			t.Fatalf("BALLAST once space came back: %d bytes, want %d", got, reserve/2)
		}
		// And so does a Put.
		s.DropBallast(math.MaxInt64)
		put(t, s, "parts/part_3", []byte("x"))
		if got := ballastSize(t, dir); got != reserve/2 {
			t.Fatalf("BALLAST after a Put with room: %d bytes, want %d", got, reserve/2)
		}
	})

	t.Run("reopened", func(t *testing.T) {
		dir := t.TempDir()
		v := &volume{free: 1 << 40}
		s := openStoreWith(t, dir, disk.Options{MinFreeSpace: reserve, FreeSpace: v.FreeSpace})
		s.Close()
		// A ballast of the right size is kept even on a full volume.
		v.set(0)
		s = openStoreWith(t, dir, disk.Options{MinFreeSpace: reserve, FreeSpace: v.FreeSpace})
		if got := ballastSize(t, dir); got != reserve/2 {
			t.Fatalf("BALLAST after reopening: %d bytes, want %d", got, reserve/2)
		}
		s.Close()
		// Another reserve: the old ballast goes, a new one is made.
		v.set(1 << 40)
		s = openStoreWith(t, dir, disk.Options{MinFreeSpace: 4 * reserve, FreeSpace: v.FreeSpace})
		if got := ballastSize(t, dir); got != 2*reserve {
			t.Fatalf("BALLAST after reopening with a larger reserve: %d bytes, want %d", got, 2*reserve)
		}
		s.Close()
		// No reserve: no ballast.
		openStoreWith(t, dir, disk.Options{FreeSpace: v.FreeSpace})
		if got := ballastSize(t, dir); got != 0 {
			t.Fatalf("BALLAST after reopening with no reserve: %d bytes, want none", got)
		}
	})

	t.Run("largest", func(t *testing.T) {
		dir := t.TempDir()
		v := &volume{free: 1 << 40}
		openStoreWith(t, dir, disk.Options{MinFreeSpace: 1 << 30, FreeSpace: v.FreeSpace})
		if got := ballastSize(t, dir); got != 64<<20 {
			t.Fatalf("BALLAST with a reserve of 1 GiB: %d bytes, want 64 MiB", got)
		}
	})
}

// openStoreWith opens the store in dir with opts and closes it when the test
// ends.
func openStoreWith(t *testing.T, dir string, opts disk.Options) *disk.Store {
	t.Helper()
	s, err := disk.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
