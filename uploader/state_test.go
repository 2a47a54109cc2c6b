package uploader

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestUploadState_SaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := statePath(filepath.Join(dir, "cache"), "http://h/v1\x00/a/b")
	if st, err := loadState(path); st != nil || err != nil {
		t.Fatalf("no state: got %v, %v", st, err)
	}
	want := &state{Version: stateVersion, Key: "http://h/v1\x00/a/b", Size: 10, ModTime: 7,
		UploadID: "upload_x", ExpiresAt: 99, PartSize: 4, Purpose: "batch", Parts: []string{"part_a", "", "part_c"}}
	if err := want.save(path); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(path)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "cache", "*.tmp")); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
	if p2 := statePath(filepath.Join(dir, "cache"), "http://other/v1\x00/a/b"); p2 == path {
		t.Errorf("two keys share a state file")
	}

	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadState(path); err == nil {
		t.Errorf("broken state: no error")
	}
}

func TestUploadState_StaleReason(t *testing.T) {
	now := time.Unix(1000, 0)
	base := state{Key: "/f", Size: 10, ModTime: 5, UploadID: "upload_x", ExpiresAt: 5000, Purpose: "batch", Filename: "f", MimeType: "text/plain"}
	for _, tc := range []struct {
		name   string
		change func(s *state)
		want   string
	}{
		{"same", func(s *state) {}, ""},
		{"size", func(s *state) { s.Size = 11 }, "changed since"},
		{"mtime", func(s *state) { s.ModTime = 6 }, "changed since"},
		{"purpose", func(s *state) { s.Purpose = "evals" }, "another purpose"},
		{"expired", func(s *state) { s.ExpiresAt = 1000 }, "expired at"},
		{"about to expire", func(s *state) { s.ExpiresAt = 1000 + expiryMargin - 1 }, "expired at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved, want := base, base
			tc.change(&saved)
			got := staleReason(&saved, &want, now)
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPartCount(t *testing.T) {
	for _, tc := range []struct {
		size, part int64
		want       int
	}{
		{0, 10, 1}, {1, 10, 1}, {10, 10, 1}, {11, 10, 2}, {8 << 30, 64 << 20, 128},
	} {
		if got := partCount(tc.size, tc.part); got != tc.want {
			t.Errorf("partCount(%d, %d) = %d, want %d", tc.size, tc.part, got, tc.want)
		}
	}
}
