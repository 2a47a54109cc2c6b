package http

import (
	"time"

	"github.com/silo-dev/silo"
)

// UploadJSON is the wire form of an Upload. Every key is always present: the
// SDKs read file as null until the Upload is completed.
type UploadJSON struct {
	ID        string    `json:"id"`
	Object    string    `json:"object"`
	Bytes     int64     `json:"bytes"`
	CreatedAt int64     `json:"created_at"`
	ExpiresAt int64     `json:"expires_at"`
	Filename  string    `json:"filename"`
	Purpose   string    `json:"purpose"`
	Status    string    `json:"status"`
	File      *FileJSON `json:"file"`
}

// NewUploadJSON returns the wire form of u with the status it has at now, so
// that a pending Upload past its expiry reads expired before any reaper ran.
func NewUploadJSON(u *silo.Upload, now time.Time) UploadJSON {
	j := UploadJSON{
		ID:        u.ID,
		Object:    "upload",
		Bytes:     u.Bytes,
		CreatedAt: u.CreatedAt,
		ExpiresAt: u.ExpiresAt,
		Filename:  u.Filename,
		Purpose:   u.Purpose,
		Status:    string(u.StatusAt(now)),
	}
	if u.File != nil {
		f := NewFileJSON(u.File)
		j.File = &f
	}
	return j
}

// Upload returns the Upload the wire form describes. Fields the wire does not
// carry (project, mime type, part ids) are left empty.
func (j UploadJSON) Upload() *silo.Upload {
	u := &silo.Upload{
		ID:        j.ID,
		Bytes:     j.Bytes,
		CreatedAt: j.CreatedAt,
		ExpiresAt: j.ExpiresAt,
		Filename:  j.Filename,
		Purpose:   j.Purpose,
		Status:    silo.UploadStatus(j.Status),
	}
	if j.File != nil {
		u.File = j.File.File()
	}
	return u
}

// PartJSON is the wire form of an Upload part.
type PartJSON struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	CreatedAt int64  `json:"created_at"`
	UploadID  string `json:"upload_id"`
}

// NewPartJSON returns the wire form of p.
func NewPartJSON(p *silo.Part) PartJSON {
	return PartJSON{ID: p.ID, Object: "upload.part", CreatedAt: p.CreatedAt, UploadID: p.UploadID}
}

// Part returns the Part the wire form describes; its size and blob are not on
// the wire.
func (j PartJSON) Part() *silo.Part {
	return &silo.Part{ID: j.ID, UploadID: j.UploadID, CreatedAt: j.CreatedAt}
}

// FileJSON is the wire form of a File. Status is deprecated upstream but the
// Python SDK's wait_for_processing polls it, so it is always "processed".
type FileJSON struct {
	ID            string  `json:"id"`
	Object        string  `json:"object"`
	Bytes         int64   `json:"bytes"`
	CreatedAt     int64   `json:"created_at"`
	Filename      string  `json:"filename"`
	Purpose       string  `json:"purpose"`
	Status        string  `json:"status"`
	ExpiresAt     *int64  `json:"expires_at"`
	StatusDetails *string `json:"status_details"`
}

// NewFileJSON returns the wire form of f; an expiry of 0 (never) is null.
func NewFileJSON(f *silo.File) FileJSON {
	j := FileJSON{
		ID:        f.ID,
		Object:    "file",
		Bytes:     f.Bytes,
		CreatedAt: f.CreatedAt,
		Filename:  f.Filename,
		Purpose:   f.Purpose,
		Status:    "processed",
	}
	if f.ExpiresAt != 0 {
		at := f.ExpiresAt
		j.ExpiresAt = &at
	}
	return j
}

// File returns the File the wire form describes; its blobs are not on the wire.
func (j FileJSON) File() *silo.File {
	f := &silo.File{
		ID:        j.ID,
		Bytes:     j.Bytes,
		CreatedAt: j.CreatedAt,
		Filename:  j.Filename,
		Purpose:   j.Purpose,
	}
	if j.ExpiresAt != nil {
		f.ExpiresAt = *j.ExpiresAt
	}
	return f
}

// FileListJSON is the wire form of a page of files. HasMore is always sent:
// openai-node stops paging without it.
type FileListJSON struct {
	Object  string     `json:"object"`
	Data    []FileJSON `json:"data"`
	FirstID *string    `json:"first_id"`
	LastID  *string    `json:"last_id"`
	HasMore bool       `json:"has_more"`
}

// NewFileListJSON returns the wire form of l; first_id and last_id are null on
// an empty page, and data is [] rather than null.
func NewFileListJSON(l *silo.FileList) FileListJSON {
	j := FileListJSON{Object: "list", Data: make([]FileJSON, 0, len(l.Files)), HasMore: l.HasMore}
	for _, f := range l.Files {
		j.Data = append(j.Data, NewFileJSON(f))
	}
	if n := len(j.Data); n > 0 {
		first, last := j.Data[0].ID, j.Data[n-1].ID
		j.FirstID, j.LastID = &first, &last
	}
	return j
}

// FileList returns the page the wire form describes.
func (j FileListJSON) FileList() *silo.FileList {
	l := &silo.FileList{Files: make([]*silo.File, 0, len(j.Data)), HasMore: j.HasMore}
	for _, f := range j.Data {
		l.Files = append(l.Files, f.File())
	}
	return l
}

// FileDeletedJSON is the answer to DELETE /files/{file_id}.
type FileDeletedJSON struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

// NewFileDeletedJSON returns the answer to deleting the file id.
func NewFileDeletedJSON(id string) FileDeletedJSON {
	return FileDeletedJSON{ID: id, Object: "file", Deleted: true}
}

// ErrorJSON is the OpenAI error envelope. All four keys of the inner object are
// always sent; param and code may be null.
type ErrorJSON struct {
	Error ErrorBodyJSON `json:"error"`
}

// ErrorBodyJSON is the object inside ErrorJSON.
type ErrorBodyJSON struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}
