package http

import (
	"fmt"
	"net/http"

	"github.com/silo-dev/silo"
)

// expiresAfterBody is expires_after as sent in JSON; pointers tell a missing
// key from a zero one.
type expiresAfterBody struct {
	Anchor  *string `json:"anchor"`
	Seconds *int64  `json:"seconds"`
}

// value returns the ExpiresAfter, or the error for a missing key: both keys are
// required when the object is given.
func (b *expiresAfterBody) value() (*silo.ExpiresAfter, error) {
	if b == nil {
		return nil, nil
	}
	if b.Anchor == nil {
		return nil, missing("expires_after.anchor", " Expected 'created_at'.")
	}
	if b.Seconds == nil {
		return nil, missing("expires_after.seconds", secondsHint)
	}
	return &silo.ExpiresAfter{Anchor: *b.Anchor, Seconds: *b.Seconds}, nil
}

// secondsHint says what expires_after.seconds takes.
var secondsHint = fmt.Sprintf(" Expected a number of seconds from %d to %d.", silo.MinExpiresAfter, silo.MaxExpiresAfter)

// missing returns the error for the required parameter name, with a hint.
func missing(name, hint string) error {
	return silo.Errorf(silo.EMISSING, name, "Missing required parameter: '%s'.%s", name, hint)
}

// uploadCreateBody is the body of POST /uploads.
type uploadCreateBody struct {
	Filename     *string           `json:"filename"`
	Purpose      *string           `json:"purpose"`
	Bytes        *int64            `json:"bytes"`
	MimeType     *string           `json:"mime_type"`
	ExpiresAfter *expiresAfterBody `json:"expires_after"`
}

// createUpload is POST /uploads.
func (s *server) createUpload() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b uploadCreateBody
		if err := decodeJSON(w, r, &b); err != nil {
			s.fail(w, r, err, "")
			return
		}
		req, err := b.request()
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		u, err := s.uploads.CreateUpload(r.Context(), req)
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		writeJSON(w, http.StatusOK, NewUploadJSON(u, s.now()))
	})
}

// request checks that every required field is there and returns the request.
// Values are checked by the service (silo.CheckUploadCreate).
func (b *uploadCreateBody) request() (*silo.UploadCreate, error) {
	switch {
	case b.Filename == nil:
		return nil, missing("filename", "")
	case b.Purpose == nil:
		return nil, missing("purpose", "")
	case b.Bytes == nil:
		return nil, missing("bytes", " Expected the size of the whole file in bytes.")
	case b.MimeType == nil:
		return nil, missing("mime_type", "")
	}
	ea, err := b.ExpiresAfter.value()
	if err != nil {
		return nil, err
	}
	return &silo.UploadCreate{
		Filename:     *b.Filename,
		Purpose:      *b.Purpose,
		Bytes:        *b.Bytes,
		MimeType:     *b.MimeType,
		ExpiresAfter: ea,
	}, nil
}

// completeBody is the body of POST /uploads/{upload_id}/complete.
type completeBody struct {
	PartIDs *[]string `json:"part_ids"`
	MD5     *string   `json:"md5"`
}

// completeUpload is POST /uploads/{upload_id}/complete.
func (s *server) completeUpload() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b completeBody
		if err := decodeJSON(w, r, &b); err != nil {
			s.fail(w, r, err, "")
			return
		}
		if b.PartIDs == nil {
			s.fail(w, r, missing("part_ids", " Expected the ids of the Upload's parts, in the order of the file."), "")
			return
		}
		var md5 string
		if b.MD5 != nil {
			md5 = *b.MD5
		}
		u, err := s.uploads.CompleteUpload(r.Context(), r.PathValue("upload_id"), *b.PartIDs, md5)
		if err != nil {
			s.fail(w, r, err, "upload_id")
			return
		}
		writeJSON(w, http.StatusOK, NewUploadJSON(u, s.now()))
	})
}

// cancelUpload is POST /uploads/{upload_id}/cancel. Its body is ignored: the
// Python SDK sends an empty one labelled application/json, others none.
func (s *server) cancelUpload() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.uploads.CancelUpload(r.Context(), r.PathValue("upload_id"))
		if err != nil {
			s.fail(w, r, err, "upload_id")
			return
		}
		writeJSON(w, http.StatusOK, NewUploadJSON(u, s.now()))
	})
}
