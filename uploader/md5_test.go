package uploader

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestOrderedMD5 feeds the parts of a file in random interleavings, with
// parts read again from their start (retries), and gets the digest of the
// whole file.
func TestOrderedMD5(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 1))
		data := testData(rng.IntN(5000), seed)
		partSize := 1 + rng.IntN(700)
		n := partCount(int64(len(data)), int64(partSize))
		size := func(i int) int64 { return int64(min(partSize, len(data)-i*partSize)) }
		o := newOrderedMD5(n, size)
		offs := make([]int, n) // how far each part's current reader got
		for left := n; left > 0; {
			i := rng.IntN(n)
			if offs[i] < 0 {
				continue // read in full
			}
			if offs[i] > 0 && rng.IntN(8) == 0 {
				offs[i] = 0 // a retry reads the part again from its start
			}
			part := data[i*partSize : i*partSize+int(size(i))]
			end := min(offs[i]+1+rng.IntN(100), len(part))
			o.write(i, int64(offs[i]), part[offs[i]:end])
			offs[i] = end
			if end == len(part) {
				offs[i], left = -1, left-1
			}
		}
		got, err := o.sum()
		want := md5.Sum(data)
		if err != nil || got != hex.EncodeToString(want[:]) {
			t.Fatalf("seed %d: got %s, %v; want %x", seed, got, err, want)
		}
	}
}

// TestOrderedMD5_Window runs parts in parallel as sendParts does, each part
// starting only inside the window, and checks the bytes kept stay within it.
func TestOrderedMD5_Window(t *testing.T) {
	const partSize, window = 1000, 3
	data := testData(40*partSize+17, 9)
	n := partCount(int64(len(data)), partSize)
	size := func(i int) int64 { return int64(min(partSize, len(data)-i*partSize)) }
	o := newOrderedMD5(n, size)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range window {
		wg.Go(func() {
			for i := range jobs {
				part := data[i*partSize : i*partSize+int(size(i))]
				for off := 0; off < len(part); off += 64 {
					o.write(i, int64(off), part[off:min(off+64, len(part))])
					o.mu.Lock()
					kept := 0
					for _, b := range o.pending {
						kept += len(b)
					}
					o.mu.Unlock()
					if kept > (window-1)*partSize {
						t.Errorf("kept %d bytes, more than %d parts", kept, window-1)
					}
				}
			}
		})
	}
	for i := range n {
		if err := o.waitWindow(context.Background(), i, window); err != nil {
			t.Fatal(err)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	got, err := o.sum()
	want := md5.Sum(data)
	if err != nil || got != hex.EncodeToString(want[:]) {
		t.Fatalf("got %s, %v; want %x", got, err, want)
	}
}
