//go:build !linux

package disk

import (
	"math"
	"os"
)

// lockDir does nothing off Linux: the store is meant for Linux servers, and
// elsewhere it is for development, one process at a time.
func lockDir(path string) (*os.File, error) { return nil, nil }

// datasync flushes f with fsync (on macOS, F_FULLFSYNC).
func datasync(f *os.File) error { return f.Sync() }

// startWriteback does nothing: it is only advice.
func startWriteback(f *os.File, off, n int64) {}

// freeSpace reports no limit: the free-space reserve is kept on Linux only.
func freeSpace(dir string) (int64, error) { return math.MaxInt64, nil }

// allocate gives f size bytes by writing zeros.
func allocate(f *os.File, size int64) error { return writeZeros(f, size) }
