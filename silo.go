// Package silo is the vocabulary of the Silo server: uploads, parts, files, their
// statuses and limits, the service and store interfaces, and the one error type.
// It imports only the standard library and does no I/O.
package silo

import (
	"slices"
	"time"
)

// Limits of the public API.
const (
	// MaxUploadBytes is the largest total size of one Upload (8 GiB).
	MaxUploadBytes int64 = 8 << 30
	// MaxPartBytes is the largest size of one Upload part (64 MiB).
	MaxPartBytes int64 = 64 << 20
	// MaxUploadParts is the most parts one Upload may record: enough for 8 GiB
	// in parts under 1 MiB, and a bound on what a complete has to list and read.
	MaxUploadParts = 10000
	// MaxFileBytes is the largest file accepted by POST /files (512 MiB).
	MaxFileBytes int64 = 512 << 20
	// DefaultUploadTTL is how long an Upload stays pending before it expires.
	DefaultUploadTTL = time.Hour
	// BatchFileTTL is the default lifetime of a File of purpose "batch".
	BatchFileTTL = 30 * 24 * time.Hour
	// MinExpiresAfter and MaxExpiresAfter bound expires_after.seconds.
	MinExpiresAfter int64 = 3600
	MaxExpiresAfter int64 = 2592000
	// MaxListLimit is the largest page size of GET /files, and its default.
	MaxListLimit = 10000
	// MaxFilenameBytes is the longest filename of an Upload or File, in bytes
	// of UTF-8 (a Silo rule): a name is echoed in every listing and download,
	// so an unbounded one would let one request make every later one large.
	MaxFilenameBytes = 1024
	// MaxEchoBytes is how much of a client's id or path a message or a log
	// line repeats; see Clip.
	MaxEchoBytes = 200
)

// purposes are the accepted values of purpose on create.
var purposes = []string{"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}

// Purposes returns the accepted values of purpose on create, in a slice of the
// caller's own.
func Purposes() []string { return slices.Clone(purposes) }

// UploadStatus is the state of an Upload.
type UploadStatus string

// The states of an Upload. StatusExpired is reached by time alone: a pending
// Upload whose expires_at has come reads expired even before any store records it.
const (
	StatusPending   UploadStatus = "pending"
	StatusCompleted UploadStatus = "completed"
	StatusCancelled UploadStatus = "cancelled"
	StatusExpired   UploadStatus = "expired"
)

// Upload is a file being sent in parts.
type Upload struct {
	ID        string
	Project   string
	Bytes     int64
	Filename  string
	Purpose   string
	MimeType  string
	CreatedAt int64 // Unix seconds
	ExpiresAt int64 // Unix seconds; from this second on a pending Upload is expired
	// Status is the stored status; use StatusAt for what a client sees.
	Status UploadStatus
	// FileExpiresAfter is expires_after.seconds given on create (0: the default
	// policy); it sets the expiry of the File the Upload produces.
	FileExpiresAfter int64
	// PartIDs and MD5 are what the completing call listed and sent.
	PartIDs []string
	MD5     string
	// File is the completed Upload's File; nil until then.
	File *File
}

// StatusAt returns the status the Upload has at now: a pending Upload whose
// expires_at second has come is expired.
func (u *Upload) StatusAt(now time.Time) UploadStatus {
	if u.Status == StatusPending && Expired(u.ExpiresAt, now) {
		return StatusExpired
	}
	return u.Status
}

// CheckPending returns NotPendingError for the Upload's status at now, or nil
// if it is pending then.
func (u *Upload) CheckPending(now time.Time) error {
	if st := u.StatusAt(now); st != StatusPending {
		return NotPendingError(u.ID, st)
	}
	return nil
}

// Expired reports whether a thing with the Unix-second expiry at has expired at
// now. An expiry of 0 means never.
func Expired(at int64, now time.Time) bool {
	return at != 0 && now.Unix() >= at
}

// Part is one piece of an Upload, stored as one blob.
type Part struct {
	ID        string
	UploadID  string
	Project   string
	Size      int64
	CreatedAt int64 // Unix seconds
	// Started is when the server began receiving the part (Unix nanoseconds);
	// parts ordered by (Started, ID) are the Upload's parts in creation order.
	Started int64
	BlobKey string
}

// File is a stored file: the ordered list of the blobs that make its bytes.
// Completion copies nothing; a File made from an Upload reads its parts' blobs.
type File struct {
	ID        string
	Project   string
	Bytes     int64
	CreatedAt int64 // Unix seconds
	Filename  string
	Purpose   string
	ExpiresAt int64 // Unix seconds; 0 means never
	// Blobs make the File's bytes, in order; their sizes add up to Bytes.
	Blobs []BlobRef
}

// BlobRef names one blob and its size.
type BlobRef struct {
	Key  string
	Size int64
}

// FileQuery selects a page of files.
type FileQuery struct {
	Purpose string // "" for all
	Limit   int    // 1..MaxListLimit
	Order   string // "asc" or "desc"
	After   string // a file id; the page starts strictly after it
}

// FileList is one page of files.
type FileList struct {
	Files   []*File
	HasMore bool
}

// ExpiresAfter is the expires_after object: seconds after the anchor created_at.
type ExpiresAfter struct {
	Anchor  string
	Seconds int64
}
