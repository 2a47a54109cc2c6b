package http

import (
	"io"
	"net/http"
	"strconv"

	"github.com/silo-dev/silo"
)

// createFile is POST /files. The fields may come in any order, so the file is
// streamed to the service as soon as its part comes, with the fields read so
// far; the service calls Rest for the fields after it once the data is stored.
// Fields that came first are checked before a byte of the file is read; the
// file size limit is the service's.
func (s *server) createFile() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mf, err := newForm(r, "file")
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		defer mf.release()
		done, err := s.bodies.acquire(r.Context())
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		defer done()
		var form fileForm
		for {
			p, err := mf.next()
			if err != nil {
				if err == io.EOF {
					err = missing("file", " Expected a multipart/form-data file field 'file'.")
				}
				s.fail(w, r, err, "")
				return
			}
			if p.FormName() != "file" {
				if err := form.read(p); err != nil {
					s.fail(w, r, err, "")
					return
				}
				continue
			}
			if err := form.checkEarly(); err != nil {
				s.fail(w, r, err, "")
				return
			}
			if p.FileName() == "" {
				s.fail(w, r, silo.Errorf(silo.EINVALID, "file", "The field 'file' must be a file with a filename."), "")
				return
			}
			req := &silo.FileCreate{Filename: p.FileName()}
			req.Data = &fileData{p: p, name: "file", rest: func() error { return form.rest(mf, req) }}
			form.fill(req)
			f, err := s.files.CreateFile(r.Context(), req)
			if err != nil {
				s.fail(w, r, err, "")
				return
			}
			writeJSON(w, http.StatusOK, NewFileJSON(f))
			return
		}
	})
}

// fileForm holds the plain fields of POST /files as they arrive.
type fileForm struct {
	purpose *string
	anchor  *string
	seconds *int64
}

// read takes one plain field; unknown fields are skipped.
func (f *fileForm) read(p *formPart) error {
	v, err := field(p)
	if err != nil {
		return err
	}
	switch p.FormName() {
	case "purpose":
		f.purpose = &v
	case "expires_after[anchor]", "expires_after.anchor":
		f.anchor = &v
	case "expires_after[seconds]", "expires_after.seconds":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return silo.Errorf(silo.EINVALID, "expires_after.seconds", "Invalid value for 'expires_after.seconds': %q.%s", silo.Clip(v), secondsHint)
		}
		f.seconds = &n
	}
	return nil
}

// checkEarly checks the fields that came before the file, so that a request
// with a bad purpose fails before up to 512 MiB are read.
func (f *fileForm) checkEarly() error {
	if f.purpose != nil {
		if err := silo.CheckPurpose(*f.purpose); err != nil {
			return err
		}
	}
	if f.anchor != nil && f.seconds != nil {
		return silo.CheckExpiresAfter(&silo.ExpiresAfter{Anchor: *f.anchor, Seconds: *f.seconds})
	}
	return nil
}

// fill sets the fields of req that have arrived. expires_after is set once
// both its keys have: its keys may come on either side of the file.
func (f *fileForm) fill(req *silo.FileCreate) {
	if f.purpose != nil {
		req.Purpose = *f.purpose
	}
	if f.anchor != nil && f.seconds != nil {
		req.ExpiresAfter = &silo.ExpiresAfter{Anchor: *f.anchor, Seconds: *f.seconds}
	}
}

// rest reads the fields after the file and fills them into req. Both keys of
// expires_after are required when either is given.
func (f *fileForm) rest(mf *formBody, req *silo.FileCreate) error {
	for {
		p, err := mf.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if p.FormName() == "file" {
			return onlyOnce("file")
		}
		if err := f.read(p); err != nil {
			return err
		}
	}
	switch {
	case f.anchor != nil && f.seconds == nil:
		return missing("expires_after.seconds", secondsHint)
	case f.anchor == nil && f.seconds != nil:
		return missing("expires_after.anchor", " Expected 'created_at'.")
	}
	f.fill(req)
	return nil
}

// listFiles is GET /files.
func (s *server) listFiles() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		q := silo.FileQuery{Purpose: v.Get("purpose"), Order: v.Get("order"), After: v.Get("after")}
		if l := v.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil {
				s.fail(w, r, silo.Errorf(silo.EINVALID, "limit", "Invalid value for 'limit': %q. Expected a number from 1 to %d.", silo.Clip(l), silo.MaxListLimit), "")
				return
			}
			if n == 0 {
				// 0 would read as "default" to the service; it is out of range.
				s.fail(w, r, silo.Errorf(silo.EINVALID, "limit", "Invalid value for 'limit': 0. Expected a number from 1 to %d.", silo.MaxListLimit), "")
				return
			}
			q.Limit = n
		}
		l, err := s.files.ListFiles(r.Context(), q)
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		writeFileList(w, l)
	})
}

// getFile is GET /files/{file_id}.
func (s *server) getFile() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := s.files.GetFile(r.Context(), r.PathValue("file_id"))
		if err != nil {
			s.fail(w, r, err, "file_id")
			return
		}
		writeJSON(w, http.StatusOK, NewFileJSON(f))
	})
}

// deleteFile is DELETE /files/{file_id}.
func (s *server) deleteFile() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("file_id")
		if err := s.files.DeleteFile(r.Context(), id); err != nil {
			s.fail(w, r, err, "file_id")
			return
		}
		writeJSON(w, http.StatusOK, NewFileDeletedJSON(id))
	})
}
