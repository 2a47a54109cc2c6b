package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// TestWrite replaces a file whole, with the mode asked, durable or not; a
// reader that fails leaves the old contents and no temporary file.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	for i, durable := range []bool{true, false} {
		want := strings.Repeat("x", 1+i*100_000)
		if err := Write(path, strings.NewReader(want), 0o600, durable); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Fatalf("durable %v: read %d bytes (%v), want %d", durable, len(got), err, len(want))
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("durable %v: mode %v, want 0600", durable, fi.Mode().Perm())
		}
	}
	broken := errors.New("broken")
	err := Write(path, io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(broken)), 0o644, true)
	if !errors.Is(err, broken) {
		t.Fatalf("a failing reader: %v", err)
	}
	if got, _ := os.ReadFile(path); len(got) != 100_001 {
		t.Errorf("after a failed Write the file holds %d bytes, want the old 100001", len(got))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left in the directory: %v, want only f", entries)
	}
}
