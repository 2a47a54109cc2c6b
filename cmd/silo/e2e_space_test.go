package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"mime/multipart"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
)

// TestE2E_FullVolume: on a data volume of 64 MiB (a tmpfs) with a reserve of
// 8 MiB, parts are refused with 507 once the volume reaches the reserve; when
// something else fills it to the last byte, reads, deletes, cancels and the
// reaper still work; and once space is freed, parts are taken again, with no
// restart.
func TestE2E_FullVolume(t *testing.T) {
	data := spaceTmpfs(t, "64m")
	const reserve = 8 << 20
	p := startProcess(t, data, "--min-free-space", "8MiB", "--reap-interval", "100ms", "--garbage-grace", "0s")
	s := &siloServer{BaseURL: p.BaseURL}
	c := p.client()
	ctx := context.Background()

	// What the full volume will be asked for: a file to read, a file to
	// delete, an upload to cancel.
	kept := pseudoRandom(1<<20, 1)
	keptFile, err := c.Files.New(ctx, openai.FileNewParams{File: openai.File(bytes.NewReader(kept), "kept.bin", "application/octet-stream"), Purpose: openai.FilePurposeUserData})
	fatalIf(t, err)
	doomed, err := c.Files.New(ctx, openai.FileNewParams{File: openai.File(bytes.NewReader(pseudoRandom(2<<20, 2)), "doomed.bin", "application/octet-stream"), Purpose: openai.FilePurposeUserData})
	fatalIf(t, err)
	cancelled, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: 2 << 20, Filename: "c.bin", MimeType: "application/octet-stream", Purpose: openai.FilePurposeUserData})
	fatalIf(t, err)
	cancelledPart, err := c.Uploads.Parts.New(ctx, cancelled.ID, openai.UploadPartNewParams{Data: bytes.NewReader(pseudoRandom(2<<20, 3))})
	fatalIf(t, err)

	var big *openai.Upload
	t.Run("filled through the API", func(t *testing.T) {
		big, err = c.Uploads.New(ctx, openai.UploadNewParams{Bytes: 64 << 20, Filename: "big.bin", MimeType: "application/octet-stream", Purpose: openai.FilePurposeUserData})
		fatalIf(t, err)
		chunk := pseudoRandom(2<<20, 4)
		var refused *rawResponse
		for i := 0; i < 40 && refused == nil; i++ { // 40 parts of 2 MiB overfill the volume
			r := rawPart(t, s, big.ID, chunk)
			if r.StatusCode != 200 {
				refused = &r
			}
		}
		if refused == nil {
			t.Fatalf("80 MiB of parts all taken on a volume of 64 MiB")
		}
		wantRawError(t, *refused, 507, "insufficient_storage", "")
		if got := refused.Header.Get("x-should-retry"); got != "false" {
			t.Errorf("x-should-retry: got %q, want %q", got, "false")
		}
		if want := "less than the reserve of 8388608 bytes (--min-free-space)"; !strings.Contains(string(refused.body), want) {
			t.Errorf("refusal %s does not say %q", refused.body, want)
		}
		if free := freeBytes(t, data); free == 0 {
			t.Errorf("the volume is full after the refusal: the reserve did not hold")
		}
		if _, err := os.Stat(filepath.Join(data, "blobs", "BALLAST")); err != nil {
			t.Errorf("the ballast: %v", err)
		}
	})

	t.Run("filled from outside", func(t *testing.T) {
		filler := fillVolume(t, data)
		if free := freeBytes(t, data); free != 0 {
			t.Fatalf("the volume has %d bytes free after filling it, want 0", free)
		}

		got, err := c.Files.Get(ctx, keptFile.ID)
		fatalIf(t, err)
		if got.Bytes != int64(len(kept)) {
			t.Errorf("retrieve on a full volume: %d bytes, want %d", got.Bytes, len(kept))
		}
		list, err := c.Files.List(ctx, openai.FileListParams{})
		fatalIf(t, err)
		if len(list.Data) == 0 {
			t.Errorf("list on a full volume: no files")
		}
		resp, err := c.Files.Content(ctx, keptFile.ID)
		fatalIf(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		fatalIf(t, err)
		if !bytes.Equal(body, kept) {
			t.Errorf("download on a full volume: %d bytes, not the ones sent", len(body))
		}

		if _, err := c.Files.Delete(ctx, doomed.ID); err != nil {
			t.Fatalf("delete on a full volume: %v\n%s", err, p.stderr.String())
		}
		u, err := c.Uploads.Cancel(ctx, cancelled.ID)
		if err != nil {
			t.Fatalf("cancel on a full volume: %v\n%s", err, p.stderr.String())
		}
		if u.Status != "cancelled" {
			t.Errorf("cancel on a full volume: status %q", u.Status)
		}
		up, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: 1, Filename: "late.bin", MimeType: "text/plain", Purpose: openai.FilePurposeUserData})
		if err == nil {
			r := rawPart(t, s, up.ID, []byte("x"))
			wantRawError(t, r, 507, "insufficient_storage", "")
		} else {
			wantAPIError(t, err, 507, "server_error", "insufficient_storage", "")
		}

		// The reaper deletes the bytes of the deleted file and of the
		// cancelled upload, though the volume is full.
		for _, key := range []string{"files." + doomed.ID, "parts." + cancelledPart.ID} {
			waitGone(t, filepath.Join(data, "blobs"), key, p.stderr.String)
		}
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("space freed", func(t *testing.T) {
		// The reaper frees the 50-odd MiB of the upload that filled the
		// volume: parts are taken again without a restart.
		_, err := c.Uploads.Cancel(ctx, big.ID)
		fatalIf(t, err)
		u, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: 4 << 20, Filename: "again.bin", MimeType: "application/octet-stream", Purpose: openai.FilePurposeUserData})
		fatalIf(t, err)
		var r rawResponse
		for range 100 {
			if r = rawPart(t, s, u.ID, pseudoRandom(4<<20, 5)); r.StatusCode == 200 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if r.StatusCode != 200 {
			t.Fatalf("part after space was freed: %d %s, want 200\n%s", r.StatusCode, r.body, p.stderr.String())
		}
		// And the ballast is back.
		var size int64
		for range 100 {
			if fi, err := os.Stat(filepath.Join(data, "blobs", "BALLAST")); err == nil {
				if size = fi.Size(); size == reserve/2 {
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		if size != reserve/2 {
			t.Errorf("BALLAST once space was freed: %d bytes, want %d", size, reserve/2)
		}
	})
}

// spaceTmpfs mounts a tmpfs of size on a new temp dir and unmounts it when
// the test ends. It skips the test unless it runs as root and can mount.
func spaceTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a full volume is played with a tmpfs, which only root can mount: run as root to test it")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s): skipping the full-volume test", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// freeBytes is the space left on the volume of dir.
func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// fillVolume writes a file in dir until the volume has no byte left, and
// returns its path.
func fillVolume(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	// 1 MiB writes, then single pages: at most 64 + 256 writes, and then
	// the few pages the reaper may have freed meanwhile.
	for _, size := range []int{1 << 20, 4096} {
		for range 1024 {
			if _, err := f.Write(buf[:size]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("filling the volume: %v", err)
				}
				break
			}
		}
	}
	return path
}

// waitGone waits until no file named name is under dir.
func waitGone(t *testing.T, dir, name string, logs func() string) {
	t.Helper()
	for range 100 {
		found := false
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Name() == name {
				found = true
			}
			return nil
		})
		if !found {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s is still under %s after 10 s of reaping\n%s", name, dir, logs())
}

// rawPart sends data as a part of the upload, the way the SDK does.
func rawPart(t *testing.T, s *siloServer, uploadID string, data []byte) rawResponse {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, err := mw.CreateFormFile("data", "blob")
	fatalIf(t, err)
	w.Write(data)
	fatalIf(t, mw.Close())
	return raw(t, s, "POST", "/uploads/"+uploadID+"/parts", "sk-test", mw.FormDataContentType(), &body)
}
