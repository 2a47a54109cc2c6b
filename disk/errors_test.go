package disk

import (
	"io/fs"
	"syscall"
	"testing"

	"github.com/silo-dev/silo"
)

// TestErrors checks that file-system errors are translated by their type,
// as they come wrapped from the os package.
func TestErrors(t *testing.T) {
	pathErr := func(errno syscall.Errno) error {
		return &fs.PathError{Op: "write", Path: "/x/tmp/put-1", Err: errno}
	}
	for _, tc := range []struct {
		name string
		err  error
		put  string
		open string
	}{
		{"NoSpace", pathErr(syscall.ENOSPC), silo.ESTORAGEFULL, silo.EINTERNAL},
		{"Quota", pathErr(syscall.EDQUOT), silo.ESTORAGEFULL, silo.EINTERNAL},
		{"NotExist", pathErr(syscall.ENOENT), silo.EINTERNAL, silo.ENOTFOUND},
		{"IO", pathErr(syscall.EIO), silo.EINTERNAL, silo.EINTERNAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := silo.ErrorCode(putErr("k", tc.err)); got != tc.put {
				t.Errorf("putErr: got code %q, want %q", got, tc.put)
			}
			if got := silo.ErrorCode(openErr("k", tc.err)); got != tc.open {
				t.Errorf("openErr: got code %q, want %q", got, tc.open)
			}
		})
	}
}
