package service

import "github.com/silo-dev/silo"

// freeing runs write, a metadata write that frees space or lets the reaper
// free it (a delete, a cancel, a step of the reaper). Such writes must not be
// refused for want of space: that would keep the volume full for good. So if
// the metadata store is out of space and the blob store holds a ballast
// (silo.Ballast), freeing drops the ballast and runs write once more. It
// retries even when this call dropped nothing: a concurrent call may have
// dropped the ballast while write was failing.
func (s *Service) freeing(write func() error) error {
	err := write()
	if silo.ErrorCode(err) != silo.ESTORAGEFULL {
		return err
	}
	b, ok := s.blobs.(silo.Ballast)
	if !ok {
		return err
	}
	b.DropBallast()
	return write()
}
