package service

import (
	"math"

	"github.com/silo-dev/silo"
)

// metaRoom is the free space a metadata write that frees space wants on the
// volume before it starts. Short of it, the ballast is dropped first: a
// driver need not report a full disk as ESTORAGEFULL (SQLite through a VFS
// may say "disk I/O error"), so waiting for that error is not enough.
const metaRoom = 1 << 20

// freeing runs write, a metadata write that frees space or lets the reaper
// free it (a delete, a cancel, a step of the reaper). Such writes must not be
// refused for want of space: that would keep the volume full for good. So
// when the blob store holds a ballast (silo.Ballast), freeing has it dropped
// if the volume is nearly full before write runs, and dropped whatever the
// volume has if write still fails with ESTORAGEFULL, and then runs write once
// more. It retries even when that dropped nothing: a concurrent call may have
// dropped the ballast while write was failing.
func (s *Service) freeing(write func() error) error {
	b, ok := s.blobs.(silo.Ballast)
	if !ok {
		return write()
	}
	b.DropBallast(metaRoom)
	err := write()
	if silo.ErrorCode(err) != silo.ESTORAGEFULL {
		return err
	}
	b.DropBallast(math.MaxInt64)
	return write()
}
