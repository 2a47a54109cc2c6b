package silo

import (
	"crypto/rand"
	"encoding/base32"
	"path"
	"slices"
	"strings"
	"unicode/utf8"
)

// ID prefixes. File ids use a hyphen, as OpenAI's do.
const (
	UploadIDPrefix = "upload_"
	PartIDPrefix   = "part_"
	FileIDPrefix   = "file-"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns prefix followed by 130 random bits in URL-safe lower-case base32.
func NewID(prefix string) string {
	var b [17]byte
	rand.Read(b[:])
	return prefix + idEncoding.EncodeToString(b[:])[:26]
}

// ValidPurpose reports whether p is one of Purposes().
func ValidPurpose(p string) bool { return slices.Contains(purposes, p) }

// CheckPurpose returns the error for a missing or unknown purpose, or nil.
func CheckPurpose(p string) error {
	if p == "" {
		return Errorf(EMISSING, "purpose", "Missing required parameter: 'purpose'. Expected one of %s.", strings.Join(purposes, ", "))
	}
	if !ValidPurpose(p) {
		return Errorf(EINVALID, "purpose", "Invalid value for 'purpose': %q. Expected one of %s.", Clip(p), strings.Join(purposes, ", "))
	}
	return nil
}

// CheckExpiresAfter returns the error for an invalid expires_after, or nil.
// A nil ExpiresAfter is valid: the default policy applies.
func CheckExpiresAfter(e *ExpiresAfter) error {
	if e == nil {
		return nil
	}
	if e.Anchor == "" {
		return Errorf(EMISSING, "expires_after.anchor", "Missing required parameter: 'expires_after.anchor'. Expected 'created_at'.")
	}
	if e.Anchor != "created_at" {
		return Errorf(EINVALID, "expires_after.anchor", "Invalid value for 'expires_after.anchor': %q. Expected 'created_at'.", Clip(e.Anchor))
	}
	if e.Seconds < MinExpiresAfter || e.Seconds > MaxExpiresAfter {
		return Errorf(EINVALID, "expires_after.seconds", "Invalid value for 'expires_after.seconds': %d. Expected a number of seconds from %d to %d.", e.Seconds, MinExpiresAfter, MaxExpiresAfter)
	}
	return nil
}

// CheckFilename returns the error for a filename that is not UTF-8 or longer
// than MaxFilenameBytes; param names the field that carried it ("filename" on
// POST /uploads, "file" on POST /files). An empty name is the caller's case.
func CheckFilename(name, param string) error {
	if len(name) > MaxFilenameBytes {
		return Errorf(EINVALID, param, "The filename is %d bytes long; a filename takes at most %d bytes of UTF-8.", len(name), MaxFilenameBytes)
	}
	if !utf8.ValidString(name) {
		return Errorf(EINVALID, param, "The filename %q is not valid UTF-8.", Clip(name))
	}
	return nil
}

// jsonlOnly names the API of each purpose whose files must be JSON Lines,
// as OpenAI refuses any other file for them.
var jsonlOnly = map[string]string{
	"batch":     "Batch API",
	"fine-tune": "Fine-Tuning API",
}

// CheckFileFormat returns the error for a filename whose format purpose does
// not take: purposes batch and fine-tune take only .jsonl files. param names
// the field that carried the name ("filename" on POST /uploads, "file" on
// POST /files).
func CheckFileFormat(purpose, filename, param string) error {
	api, ok := jsonlOnly[purpose]
	if !ok || strings.EqualFold(path.Ext(filename), ".jsonl") {
		return nil
	}
	return Errorf(EFILEFORMAT, param, "Invalid file format for %s. Must be .jsonl (purpose '%s', filename %q).", api, purpose, Clip(filename))
}

// Clip returns s cut to at most MaxEchoBytes bytes, on a character boundary,
// with "…" after a cut: ids and paths that a client sent are repeated in
// messages and logs only this far, so a huge one cannot make either huge.
func Clip(s string) string {
	if len(s) <= MaxEchoBytes {
		return s
	}
	cut := MaxEchoBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// CheckUploadCreate validates the body of POST /uploads.
func CheckUploadCreate(r *UploadCreate) error {
	if r.Filename == "" {
		return Errorf(EMISSING, "filename", "Missing required parameter: 'filename'.")
	}
	if err := CheckFilename(r.Filename, "filename"); err != nil {
		return err
	}
	if err := CheckPurpose(r.Purpose); err != nil {
		return err
	}
	if err := CheckFileFormat(r.Purpose, r.Filename, "filename"); err != nil {
		return err
	}
	if r.Bytes < 0 {
		return Errorf(EINVALID, "bytes", "Invalid value for 'bytes': %d. Expected a number of bytes from 0 to %d.", r.Bytes, MaxUploadBytes)
	}
	if r.Bytes > MaxUploadBytes {
		return Errorf(EUPLOADTOOLARGE, "bytes", "An upload takes at most %d bytes (8 GiB); %d were requested.", MaxUploadBytes, r.Bytes)
	}
	if r.MimeType == "" {
		return Errorf(EMISSING, "mime_type", "Missing required parameter: 'mime_type'.")
	}
	return CheckExpiresAfter(r.ExpiresAfter)
}

// CheckMD5 returns the error for an md5 that is not 32 hex digits; "" is valid.
func CheckMD5(s string) error {
	if s == "" {
		return nil
	}
	ok := len(s) == 32
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
	}
	if !ok {
		return Errorf(EINVALID, "md5", "Invalid value for 'md5': %q. Expected 32 hexadecimal digits.", Clip(s))
	}
	return nil
}

// CheckFileQuery validates a list query and fills in the defaults.
func CheckFileQuery(q *FileQuery) error {
	if q.Limit == 0 {
		q.Limit = MaxListLimit
	}
	if q.Limit < 1 || q.Limit > MaxListLimit {
		return Errorf(EINVALID, "limit", "Invalid value for 'limit': %d. Expected a number from 1 to %d.", q.Limit, MaxListLimit)
	}
	switch q.Order {
	case "":
		q.Order = "desc"
	case "asc", "desc":
	default:
		return Errorf(EINVALID, "order", "Invalid value for 'order': %q. Expected 'asc' or 'desc'.", Clip(q.Order))
	}
	// Any purpose filters, as on OpenAI, where Files have purposes such as
	// batch_output that no client may create: one no File has gives an empty
	// page, never an error.
	return nil
}

// FileExpiresAt returns the expires_at of a File created at createdAt (Unix
// seconds): expires_after when given, 30 days for purpose batch, else 0 (never).
func FileExpiresAt(purpose string, createdAt, expiresAfterSeconds int64) int64 {
	switch {
	case expiresAfterSeconds > 0:
		return createdAt + expiresAfterSeconds
	case purpose == "batch":
		return createdAt + int64(BatchFileTTL.Seconds())
	default:
		return 0
	}
}

// ValidBlobKey reports whether key is a non-empty path of [A-Za-z0-9_-] segments.
func ValidBlobKey(key string) bool {
	if key == "" {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}
