package sqlite

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/silo-dev/silo"
)

// TestMetaStore_FullVolume fills a real volume (a 4 MiB tmpfs, as root):
// the driver reports the failed write as an I/O error, which must reach the
// client as a full disk (507), not an internal error.
func TestMetaStore_FullVolume(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	s, err := Open(dir+"/silo.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i := range 10000 {
		f := &silo.File{ID: fmt.Sprintf("file-%06d", i), Project: "p", Filename: strings.Repeat("n", 900),
			Purpose: "user_data", Bytes: 1, CreatedAt: 1, Blobs: []silo.BlobRef{{Key: fmt.Sprintf("files/f%d", i), Size: 1}}}
		if err := s.CreateFile(ctx, f, silo.Quota{}); err != nil {
			if got := silo.ErrorCode(err); got != silo.ESTORAGEFULL {
				t.Fatalf("a write to a full volume: got %v, want %s", err, silo.ESTORAGEFULL)
			}
			return
		}
	}
	t.Fatal("4 MiB never filled up")
}
