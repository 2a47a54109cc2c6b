package disk

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// lockDir takes an exclusive lock on the file at path, held until the
// returned file is closed, so that a second process cannot clean up the temp
// files of a first one.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	err = control(f, func(fd int) error { return unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) })
	if errors.Is(err, unix.EWOULDBLOCK) {
		f.Close()
		return nil, errors.New("the directory is in use by another process")
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// datasync flushes f's bytes and the metadata needed to read them back (its
// size), which is all that a new file needs; fsync would also flush times.
func datasync(f *os.File) error {
	return control(f, func(fd int) error {
		for {
			err := unix.Fdatasync(fd)
			if err != unix.EINTR {
				return err
			}
		}
	})
}

// startWriteback asks the kernel to start writing n bytes of f from off to
// the device without waiting. It is advice: durability comes from datasync,
// which reports any write error, so errors here are ignored.
func startWriteback(f *os.File, off, n int64) {
	control(f, func(fd int) error {
		return unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}

func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// freeSpace returns the bytes that an unprivileged process may still write
// on the volume of dir.
func freeSpace(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * st.Bsize, nil
}

// allocate gives f size bytes of allocated blocks: fallocate where the file
// system has it, else written zeros.
func allocate(f *os.File, size int64) error {
	err := control(f, func(fd int) error {
		for {
			err := unix.Fallocate(fd, 0, 0, size)
			if err != unix.EINTR {
				return err
			}
		}
	})
	if errors.Is(err, unix.EOPNOTSUPP) {
		return writeZeros(f, size)
	}
	return err
}
