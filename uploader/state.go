package uploader

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/silo-dev/silo/internal/atomicfile"
)

// state is what is kept on disk while an Upload is under way, so that an
// upload of the same source started later continues it. It is found by the
// source's resume key and is valid only for the size and modification time it
// records.
type state struct {
	Version   int    `json:"version"`
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	ModTime   int64  `json:"mtime_ns"`
	UploadID  string `json:"upload_id"`
	ExpiresAt int64  `json:"expires_at"`
	PartSize  int64  `json:"part_size"`
	Filename  string `json:"filename"`
	Purpose   string `json:"purpose"`
	MimeType  string `json:"mime_type"`
	// Parts holds the id of each acknowledged part by its index in the file;
	// "" for a part not acknowledged yet.
	Parts []string `json:"parts"`
}

// stateVersion is 2 since the state moved out of silo upload: a key took the
// place of the base URL and path.
const stateVersion = 2

// partCount returns the number of parts of a file of size bytes. An empty file
// is sent as one empty part.
func partCount(size, partSize int64) int {
	if size == 0 {
		return 1
	}
	return int((size + partSize - 1) / partSize)
}

// partRange returns the offset and length of part i.
func (s *state) partRange(i int) (off, n int64) {
	off = int64(i) * s.PartSize
	return off, min(s.PartSize, s.Size-off)
}

// acknowledged returns the number of acknowledged parts and their bytes.
func (s *state) acknowledged() (parts int, bytes int64) {
	for i, id := range s.Parts {
		if id != "" {
			_, n := s.partRange(i)
			parts++
			bytes += n
		}
	}
	return parts, bytes
}

// statePath is the state file of the source with the resume key in dir.
func statePath(dir, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(dir, "upload-"+hex.EncodeToString(sum[:16])+".json")
}

// loadState reads the state at path; it returns nil and no error when there is none.
func loadState(path string) (*state, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("unreadable resume state %s: %w", path, err)
	}
	if s.Version != stateVersion || s.PartSize <= 0 || len(s.Parts) != partCount(s.Size, s.PartSize) {
		return nil, fmt.Errorf("unusable resume state %s", path)
	}
	return &s, nil
}

// save writes the state to path atomically: a temporary file written, synced
// and renamed over the old one, then the directory synced, so that a crash
// leaves either the old state or the new one.
func (s *state) save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, bytes.NewReader(b), 0o600, true)
}

// staleReason says why the saved state cannot continue the upload described
// by want at now, or returns "" when it can.
func staleReason(s, want *state, now time.Time) string {
	switch {
	case s.Size != want.Size || s.ModTime != want.ModTime:
		return fmt.Sprintf("%s changed since upload %s began (size or modification time differ)", want.Filename, s.UploadID)
	case s.Purpose != want.Purpose || s.Filename != want.Filename || s.MimeType != want.MimeType:
		return fmt.Sprintf("upload %s was begun with another purpose, filename or MIME type", s.UploadID)
	case now.Unix() >= s.ExpiresAt-expiryMargin:
		return fmt.Sprintf("upload %s expired at %s", s.UploadID, time.Unix(s.ExpiresAt, 0).Format(time.RFC3339))
	}
	return ""
}

// expiryMargin is how long before its expiry a saved Upload is no longer
// resumed: too little time would be left to send anything.
const expiryMargin = 60
