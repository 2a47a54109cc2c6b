package http

import (
	"io"
	"net/http"
)

// addPart is POST /uploads/{upload_id}/parts: a multipart body whose field data
// is streamed to the service as it arrives, never buffered. The service reads
// it only after its own checks, so a part it refuses is answered without
// reading the body; the part size limit is the service's.
func (s *server) addPart() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := newForm(r, "data")
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		defer f.release()
		done, err := s.bodies.acquire(r.Context())
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		defer done()
		part, err := s.uploads.AddPart(r.Context(), r.PathValue("upload_id"), &partData{form: f})
		if err != nil {
			s.fail(w, r, err, "upload_id")
			return
		}
		writeJSON(w, http.StatusOK, NewPartJSON(part))
	})
}

// partData is the field data of a part's form, found at the first read: other
// fields before it are skipped. It ends only once the rest of the form is read
// and has no second data field.
type partData struct {
	form *formBody
	data io.Reader
}

func (d *partData) Read(b []byte) (int, error) {
	if d.data == nil {
		p, err := d.find()
		if err != nil {
			return 0, err
		}
		d.data = &fileData{p: p, name: "data", rest: d.rest}
	}
	return d.data.Read(b)
}

// find returns the data field, skipping the fields before it.
func (d *partData) find() (io.Reader, error) {
	for {
		p, err := d.form.next()
		if err == io.EOF {
			return nil, missing("data", " Expected a multipart/form-data file field 'data' with the part's bytes.")
		}
		if err != nil {
			return nil, err
		}
		if p.FormName() == "data" {
			return p, nil
		}
		if _, err := field(p); err != nil {
			return nil, err
		}
	}
}

// rest reads the fields after data, which may not hold another one.
func (d *partData) rest() error {
	for {
		p, err := d.form.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if p.FormName() == "data" {
			return onlyOnce("data")
		}
		if _, err := field(p); err != nil {
			return err
		}
	}
}
