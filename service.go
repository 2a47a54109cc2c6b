package silo

import (
	"context"
	"io"
)

// UploadService is the Uploads API. The service package implements it over the
// stores; the http package serves it and also implements it as a client.
// The project comes from the context (WithProject).
type UploadService interface {
	// CreateUpload creates a pending Upload. EINVALID, EMISSING, EUPLOADTOOLARGE.
	CreateUpload(ctx context.Context, req *UploadCreate) (*Upload, error)

	// AddPart stores the bytes read from data as a part of the Upload.
	// ENOTFOUND; EPARTTOOLARGE past MaxPartBytes; EUPLOADTOOLARGE;
	// EUPLOADCOMPLETED, EUPLOADCANCELLED, EUPLOADEXPIRED; ESTORAGEFULL.
	AddPart(ctx context.Context, uploadID string, data io.Reader) (*Part, error)

	// CompleteUpload makes the File from the listed parts, in that order, and
	// checks md5 (32 hex digits) when given. Completing again with the same part
	// ids returns the same Upload and File. ENOTFOUND; EMISSING, EINVALID;
	// EPARTNOTFOUND, EDUPLICATEPART, EBYTESMISMATCH, EMD5MISMATCH (the Upload
	// stays pending); EUPLOADCOMPLETED, EUPLOADCANCELLED, EUPLOADEXPIRED.
	CompleteUpload(ctx context.Context, uploadID string, partIDs []string, md5 string) (*Upload, error)

	// CancelUpload cancels a pending Upload; cancelling again returns it again.
	// ENOTFOUND; EUPLOADCOMPLETED, EUPLOADEXPIRED.
	CancelUpload(ctx context.Context, uploadID string) (*Upload, error)
}

// FileService is the Files API, served and implemented like UploadService.
type FileService interface {
	// CreateFile stores a file of at most MaxFileBytes read from req.Data.
	// EINVALID, EMISSING, EFILETOOLARGE, ESTORAGEFULL.
	CreateFile(ctx context.Context, req *FileCreate) (*File, error)

	// GetFile returns a File. ENOTFOUND.
	GetFile(ctx context.Context, id string) (*File, error)

	// ListFiles returns one page of files. EINVALID for a bad limit, order or after.
	ListFiles(ctx context.Context, q FileQuery) (*FileList, error)

	// DeleteFile deletes a File. ENOTFOUND.
	DeleteFile(ctx context.Context, id string) error

	// OpenFile returns the File and a reader of length of its bytes from offset
	// (length below 0: to the end). ENOTFOUND; ERANGE when offset is past the end.
	OpenFile(ctx context.Context, id string, offset, length int64) (*File, io.ReadCloser, error)
}

// UploadCreate is the body of POST /uploads.
type UploadCreate struct {
	Filename     string
	Purpose      string
	Bytes        int64
	MimeType     string
	ExpiresAfter *ExpiresAfter
}

// FileCreate is the body of POST /files.
type FileCreate struct {
	Filename     string
	Purpose      string
	ExpiresAfter *ExpiresAfter
	Data         io.Reader
	// Rest, when set, is called once Data has been read to its end, to fill in
	// the fields that came after the file (multipart fields come in any order).
	// The fields are validated after it returns.
	Rest func(*FileCreate) error
}

type projectKey struct{}

// WithProject returns a context for requests of the project.
func WithProject(ctx context.Context, project string) context.Context {
	return context.WithValue(ctx, projectKey{}, project)
}

// ProjectFrom returns the project of the context, or "" if none.
func ProjectFrom(ctx context.Context) string {
	p, _ := ctx.Value(projectKey{}).(string)
	return p
}
