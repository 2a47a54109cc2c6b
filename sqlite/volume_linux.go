package sqlite

import "syscall"

// fullBelow is the free space under which a volume counts as full: a failed
// write of a few pages leaves less.
const fullBelow = 1 << 20

// volumeFull reports whether the volume of dir has (almost) no space left.
func volumeFull(dir string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	return int64(st.Bavail)*int64(st.Bsize) < fullBelow
}
