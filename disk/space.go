package disk

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/silo-dev/silo"
)

const (
	// maxBallast is the largest ballast file the store holds.
	maxBallast = 64 << 20
	// checkEvery is how many bytes a Put writes between two readings of the
	// free space: parallel Puts share the volume, so each one checks as it
	// goes, and goes past the reserve by at most this much.
	checkEvery = 4 << 20
)

// space keeps the reserve of free space on the store's volume: Puts that
// would eat into it are refused, and part of it is held as a ballast file
// that only DropBallast gives back, so that the metadata store on the same
// volume has room to record deletes and cancels even when something else
// filled the volume.
type space struct {
	min     int64 // the reserve, in bytes; 0 turns all of this off
	free    func(dir string) (int64, error)
	dir     string
	tmp     string // where the ballast is made before it takes its name
	ballast string // dir/BALLAST
	size    int64  // what the ballast holds when it is there

	mu   sync.Mutex   // held while the ballast is made or dropped
	held atomic.Int64 // bytes the ballast holds now: 0 or size
}

func newSpace(dir, tmp string, opts Options) *space {
	sp := &space{min: max(opts.MinFreeSpace, 0), free: opts.FreeSpace, dir: dir, tmp: tmp, ballast: filepath.Join(dir, "BALLAST")}
	if sp.free == nil {
		sp.free = freeSpace
	}
	sp.size = min(sp.min/2, maxBallast)
	return sp
}

// open takes over the ballast an earlier process left if it has the right
// size, and otherwise removes it and makes a new one if there is room.
func (sp *space) open() error {
	fi, err := os.Stat(sp.ballast)
	switch {
	case err == nil && sp.size > 0 && fi.Size() == sp.size:
		sp.held.Store(sp.size)
		return nil
	case err == nil:
		if err := os.Remove(sp.ballast); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	sp.refill()
	return nil
}

// check returns ESTORAGEFULL if the volume has less free space than the
// reserve. The ballast counts as free: it is part of the reserve.
func (sp *space) check() error {
	if sp.min == 0 {
		return nil
	}
	before := sp.held.Load()
	free, err := sp.free(sp.dir)
	if err != nil {
		return fmt.Errorf("disk: free space of %s: %w", sp.dir, err)
	}
	// A ballast made or dropped during the reading is counted as absent,
	// whichever side of the reading it fell on: the lower figure.
	free += min(before, sp.held.Load())
	if free < sp.min {
		return silo.Errorf(silo.ESTORAGEFULL, "",
			"The data volume has %d bytes free, less than the reserve of %d bytes (--min-free-space); the server takes no new bytes until space is freed. Delete files or cancel uploads you no longer need, or try again later.",
			free, sp.min)
	}
	return nil
}

// refill makes the ballast if it is not there and the volume has room for it
// and as much again, so that making it never fills the volume. It does
// nothing while another goroutine makes or drops it; a failure to make it is
// left for the next call.
func (sp *space) refill() {
	if sp.size == 0 || sp.held.Load() != 0 || !sp.mu.TryLock() {
		return
	}
	defer sp.mu.Unlock()
	if sp.held.Load() != 0 {
		return
	}
	if free, err := sp.free(sp.dir); err != nil || free < 2*sp.size {
		return
	}
	if err := makeBallast(sp.tmp, sp.ballast, sp.size); err != nil {
		return
	}
	sp.held.Store(sp.size)
}

// drop removes the ballast, giving its space back to the volume, if the
// volume has fewer than below bytes free.
func (sp *space) drop(below int64) {
	if sp.held.Load() == 0 {
		return
	}
	if below < math.MaxInt64 {
		if free, err := sp.free(sp.dir); err == nil && free >= below {
			return
		}
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.held.Load() == 0 {
		return
	}
	if err := os.Remove(sp.ballast); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return // still held: nothing was freed
	}
	sp.held.Store(0)
}

// makeBallast writes a file of size bytes under tmp and renames it to path,
// so that a crash never leaves a short ballast under its name. Its blocks are
// allocated, not sparse: the point is to hold the space.
func makeBallast(tmp, path string, size int64) error {
	f, err := os.CreateTemp(tmp, "ballast-*")
	if err != nil {
		return err
	}
	err = allocate(f, size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// DropBallast gives the space of the ballast file back to the volume if the
// volume has fewer than below bytes free, so that a metadata write has room.
// It implements silo.Ballast. The store makes the ballast again by itself, on
// a Put or a Delete, once the volume has room for it twice over.
func (s *Store) DropBallast(below int64) { s.space.drop(below) }

// writeZeros writes size zero bytes to f, for file systems without fallocate.
func writeZeros(f *os.File, size int64) error {
	zeros := make([]byte, min(size, 1<<20))
	for size > 0 {
		n, err := f.Write(zeros[:min(size, int64(len(zeros)))])
		if err != nil {
			return err
		}
		size -= int64(n)
	}
	return nil
}
