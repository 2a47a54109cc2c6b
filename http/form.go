package http

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"sync"

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
)

// bodyBufferSize is the buffer between the socket and mime/multipart, whose
// own buffer is 4 KiB: without this one, a 64 MiB part is read from the socket
// 4 KiB at a time, which costs more CPU than writing it to disk.
const bodyBufferSize = 256 << 10

// bodyBuffers are the bufio.Readers of bodyBufferSize, kept for reuse so that
// small requests do not each allocate one.
var bodyBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bodyBufferSize) }}

// errPartHeader is what headerGuard fails with.
var errPartHeader = errors.New("multipart field header too long")

// formBody is a multipart/form-data request body read field by field. Nothing is
// read until the first field is asked for, so a request refused before its
// body matters is answered without reading it, and a client that sent
// "Expect: 100-continue" is told to go on only when the body is wanted.
type formBody struct {
	guard  headerGuard
	br     *bufio.Reader
	mr     *multipart.Reader
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
	if err != nil {
		return nil, silo.Errorf(silo.EINVALID, "", "Expected a multipart/form-data body with a file field '%s' (%v).", file, err)
	}
	f := &formBody{br: bodyBuffers.Get().(*bufio.Reader)}
	f.br.Reset(r.Body)
	f.guard = headerGuard{r: f.br, left: -1}
	f.mr = multipart.NewReader(&f.guard, params["boundary"])
	return f, nil
}

// release gives back the form's buffer.
func (f *formBody) release() {
	f.br.Reset(nil)
	bodyBuffers.Put(f.br)
}

// next returns the next field; io.EOF after the last. A malformed body, a
// field header over maxPartHeaderBytes or more than maxFormFields fields are
// the client's error.
func (f *formBody) next() (*multipart.Part, error) {
	if f.fields++; f.fields > maxFormFields {
		return nil, silo.Errorf(silo.EINVALID, "", "The multipart/form-data body has more than %d fields.", maxFormFields)
	}
	f.guard.limit(maxPartHeaderBytes + 4<<10) // and one buffer of mime/multipart's own
	p, err := f.mr.NextPart()
	f.guard.limit(-1)
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
func field(p *multipart.Part) (string, error) {
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

// headerGuard passes reads through, but at most a limit of bytes while one is
// set: mime/multipart reads a field's header block through it.
type headerGuard struct {
	r    io.Reader
	left int // bytes still allowed; below 0 for no limit
}

// limit sets the bytes allowed from now on; n < 0 lifts the limit.
func (g *headerGuard) limit(n int) { g.left = n }

func (g *headerGuard) Read(p []byte) (int, error) {
	if g.left < 0 {
		return g.r.Read(p)
	}
	if g.left == 0 {
		return 0, errPartHeader
	}
	if len(p) > g.left {
		p = p[:g.left]
	}
	n, err := g.r.Read(p)
	g.left -= n
	return n, err
}
