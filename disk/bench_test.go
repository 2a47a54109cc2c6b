package disk_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/silo-dev/silo/disk"
)

// BenchmarkPut measures Put of 64 MiB blobs against the plainest durable sink
// of the same bytes on the same file system: create, one write, fsync, close.
// The project's goal is Put at 85% or more of the plain sink's MB/s. Each
// blob is deleted, off the clock, before the next is written.
//
//	go test -run '^$' -bench BenchmarkPut -benchtime 10x -count 5 ./disk/
func BenchmarkPut(b *testing.B) {
	const size = 64 << 20
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{1}).Read(data)
	ctx := context.Background()

	// disk hands Put a bytes.Reader, which writes itself to the store
	// without a copy; disk-stream hides that, as a client's request body
	// does, so Put copies through its buffer.
	for _, tc := range []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"disk", func(r io.Reader) io.Reader { return r }},
		{"disk-stream", func(r io.Reader) io.Reader { return struct{ io.Reader }{r} }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := disk.Open(b.TempDir(), disk.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(size)
			b.ResetTimer()
			for i := range b.N {
				key := fmt.Sprintf("bench/part_%d", i)
				if _, err := s.Put(ctx, key, tc.wrap(bytes.NewReader(data))); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := s.Delete(ctx, key); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}

	b.Run("plain-fsync", func(b *testing.B) {
		dir := b.TempDir()
		b.SetBytes(size)
		b.ResetTimer()
		for i := range b.N {
			name := filepath.Join(dir, fmt.Sprintf("part_%d", i))
			if err := writeFileSync(name, data); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := os.Remove(name); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
}

// writeFileSync is os.WriteFile followed by an fsync of the file.
func writeFileSync(name string, data []byte) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
