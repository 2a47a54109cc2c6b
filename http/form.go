package http

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/silo-dev/silo"
)

// Bounds of a multipart/form-data body.
const (
	// maxFieldBytes bounds a plain field (purpose, expires_after[…]) and any
	// field we do not know, which is skipped but must not be endless.
	maxFieldBytes = 64 << 10
	// maxPartHeaderBytes bounds the header block of one multipart field
	// (mime/multipart alone allows 10 MiB): a Content-Disposition with a
	// filename of the longest allowed length fits many times over.
	maxPartHeaderBytes = 64 << 10
	// maxFormFields is the most fields one body may have.
	maxFormFields = 100
	// maxBoundaryBytes bounds the boundary parameter (RFC 2046: 70), so that
	// its lines fit one of mime/multipart's: maxLineBytes.
	maxBoundaryBytes = maxLineBytes - 8
)

// bodyBufferSize is the buffer of a form's reader, and the most one read of
// the body asks for.
const bodyBufferSize = 256 << 10

// formBody is a multipart/form-data request body read field by field. Nothing is
// read until the first field is asked for, so a request refused before its
// body matters is answered without reading it, and a client that sent
// "Expect: 100-continue" is told to go on only when the body is wanted.
type formBody struct {
	mr     *formReader
	fields int
}

// newForm returns the form of r's body, or the error for a body that is not
// multipart/form-data; file names the expected file field for the message.
// Release gives back its buffer once the handler is done with the body.
func newForm(r *http.Request, file string) (*formBody, error) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && (mediaType != "multipart/form-data" || params["boundary"] == "") {
		err = fmt.Errorf("Content-Type is %q", silo.Clip(r.Header.Get("Content-Type")))
	}
	if err == nil && len(params["boundary"]) > maxBoundaryBytes {
		err = fmt.Errorf("its boundary is longer than %d bytes", maxBoundaryBytes)
	}
	if err != nil {
		return nil, silo.Errorf(silo.EINVALID, "", "Expected a multipart/form-data body with a file field '%s' (%v).", file, err)
	}
	return &formBody{mr: newFormReader(r.Body, params["boundary"])}, nil
}

// release gives back the form's buffer.
func (f *formBody) release() { f.mr.release() }

// next returns the next field; io.EOF after the last. A malformed body, a
// field header over maxPartHeaderBytes or more than maxFormFields fields are
// the client's error.
func (f *formBody) next() (*formPart, error) {
	if f.fields++; f.fields > maxFormFields {
		return nil, silo.Errorf(silo.EINVALID, "", "The multipart/form-data body has more than %d fields.", maxFormFields)
	}
	p, err := f.mr.nextPart(maxPartHeaderBytes + 2*maxLineBytes) // and the boundary lines around it
	if err == io.EOF {
		return nil, io.EOF
	}
	var se *silo.Error
	switch {
	case err == nil:
		return p, nil
	case errors.As(err, &se):
		return nil, se
	case errors.Is(err, errPartHeader):
		return nil, silo.Errorf(silo.EINVALID, "", "The headers of a multipart/form-data field are longer than %d bytes.", maxPartHeaderBytes)
	default:
		return nil, silo.Errorf(silo.EINVALID, "", "We could not read the multipart/form-data body: %v.", err)
	}
}

// field returns the value of a plain field, at most maxFieldBytes long.
func field(p *formPart) (string, error) {
	name := silo.Clip(p.FormName())
	b, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
	if err != nil {
		return "", fieldErr(name, err)
	}
	if len(b) > maxFieldBytes {
		return "", silo.Errorf(silo.EINVALID, name, "The multipart field '%s' is longer than %d bytes.", name, maxFieldBytes)
	}
	return string(b), nil
}

// fieldErr is the client's error for a failed read of the field name.
func fieldErr(name string, err error) error {
	var se *silo.Error
	if errors.As(err, &se) {
		return se
	}
	return silo.Errorf(silo.EINVALID, name, "We could not read the multipart field '%s' to its end: %v.", name, err)
}

// onlyOnce returns the error for a second field name, which the API takes once.
func onlyOnce(name string) error {
	return silo.Errorf(silo.EINVALID, name, "The body has more than one field '%s'; expected exactly one.", name)
}

// fileData reads one file field; at its end it reads the rest of the form with
// rest, and ends (io.EOF) only if that succeeds, so that a store writing what
// it reads keeps nothing of a body that turns out to be wrong.
type fileData struct {
	p    io.Reader
	name string
	rest func() error
	done bool
}

func (d *fileData) Read(b []byte) (int, error) {
	if d.done {
		return 0, io.EOF
	}
	n, err := d.p.Read(b)
	if err == io.EOF {
		if err := d.rest(); err != nil {
			return n, err
		}
		d.done = true
		return n, io.EOF
	}
	if err != nil {
		err = fieldErr(d.name, err)
	}
	return n, err
}
