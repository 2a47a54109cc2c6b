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

// maxFieldBytes bounds a plain multipart field (purpose, expires_after[…]) and
// any field we do not know, which is skipped but must not be endless.
const maxFieldBytes = 64 << 10

// addPart is POST /uploads/{upload_id}/parts: a multipart body whose field data
// is streamed to the service as it arrives, never buffered, and cut off at
// silo.MaxPartBytes.
func (s *server) addPart() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mr, release, err := multipartReader(r, "data")
		if err != nil {
			s.fail(w, r, err, "")
			return
		}
		defer release()
		for {
			p, err := nextPart(mr)
			if err == io.EOF {
				s.fail(w, r, missing("data", " Expected a multipart/form-data file field 'data' with the part's bytes."), "")
				return
			}
			if err != nil {
				s.fail(w, r, err, "")
				return
			}
			if p.FormName() != "data" {
				if _, err := readField(p); err != nil {
					s.fail(w, r, err, "")
					return
				}
				continue
			}
			data := newLimitReader(p, silo.MaxPartBytes, "data", silo.EPARTTOOLARGE,
				"A part takes at most %d bytes (64 MiB); send the file in more, smaller parts.")
			part, err := s.uploads.AddPart(r.Context(), r.PathValue("upload_id"), data)
			if err != nil {
				finishBody(w, r, data.over)
				s.fail(w, r, err, "upload_id")
				return
			}
			writeJSON(w, http.StatusOK, NewPartJSON(part))
			return
		}
	})
}

// maxDrainBytes is how much of a rejected body finishBody reads at most.
const maxDrainBytes = silo.MaxPartBytes

// finishBody deals with the unread rest of a body the service rejected. An
// over-limit body is not read further: the connection is closed. Any other
// rest (a part refused because its Upload is completed, say) is read, up to
// maxDrainBytes, because a client that is still sending when the server
// closes sees a reset connection instead of the answer, and the SDKs retry
// that, sending the whole part again.
func finishBody(w http.ResponseWriter, r *http.Request, over bool) {
	if !over {
		n, _ := io.CopyN(io.Discard, r.Body, maxDrainBytes+1)
		over = n > maxDrainBytes
	}
	if over {
		w.Header().Set("Connection", "close")
	}
}

// bodyBufferSize is the buffer between the socket and mime/multipart, whose
// own buffer is 4 KiB: without this one, a 64 MiB part is read from the socket
// 4 KiB at a time, which costs more CPU than writing it to disk. It is small
// enough that a part over the limit is refused with little read past it.
const bodyBufferSize = 256 << 10

// bodyBuffers are the bufio.Readers of bodyBufferSize, kept for reuse so that
// small requests do not each allocate one.
var bodyBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bodyBufferSize) }}

// multipartReader returns a reader of the request's multipart/form-data body,
// or the error for a body that is not one; field names the expected file
// field. release gives back its buffer once the handler is done with the body.
func multipartReader(r *http.Request, field string) (mr *multipart.Reader, release func(), err error) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && (mediaType != "multipart/form-data" || params["boundary"] == "") {
		err = fmt.Errorf("Content-Type is %q", r.Header.Get("Content-Type"))
	}
	if err != nil {
		return nil, nil, silo.Errorf(silo.EINVALID, "", "Expected a multipart/form-data body with a file field '%s' (%v).", field, err)
	}
	br := bodyBuffers.Get().(*bufio.Reader)
	br.Reset(r.Body)
	release = func() {
		br.Reset(nil)
		bodyBuffers.Put(br)
	}
	return multipart.NewReader(br, params["boundary"]), release, nil
}

// nextPart returns the next part of mr; a malformed body is the client's error.
func nextPart(mr *multipart.Reader) (*multipart.Part, error) {
	p, err := mr.NextPart()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, silo.Errorf(silo.EINVALID, "", "We could not read the multipart/form-data body: %v.", err)
	}
	return p, nil
}

// readField returns the value of a plain field, at most maxFieldBytes long.
func readField(p *multipart.Part) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
	if err != nil {
		return "", silo.Errorf(silo.EINVALID, p.FormName(), "We could not read the multipart field '%s': %v.", p.FormName(), err)
	}
	if len(b) > maxFieldBytes {
		return "", silo.Errorf(silo.EINVALID, p.FormName(), "The multipart field '%s' is longer than %d bytes.", p.FormName(), maxFieldBytes)
	}
	return string(b), nil
}

// limitReader passes on at most limit bytes of r. The first read that finds
// more returns a *silo.Error instead, so that a store writing what it reads
// aborts and keeps nothing. It never hands out a byte past the limit.
// Any other read failure of the body (a client hanging up, a broken
// multipart) also becomes the client's error rather than an internal one.
type limitReader struct {
	r     io.Reader
	left  int64
	param string
	err   *silo.Error
	over  bool
}

// newLimitReader returns a limitReader whose error has code and param and the
// message format (which gets the limit).
func newLimitReader(r io.Reader, limit int64, param, code, format string) *limitReader {
	return &limitReader{r: r, left: limit, param: param, err: silo.Errorf(code, param, format, limit)}
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.over {
		return 0, l.err
	}
	if l.left <= 0 {
		// At the limit: the body may still end here. Look one byte ahead
		// into a buffer of our own, never the caller's.
		var probe [1]byte
		for {
			n, err := l.r.Read(probe[:])
			if n > 0 {
				l.over = true
				return 0, l.err
			}
			if err != nil {
				return 0, l.readErr(err)
			}
		}
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, l.readErr(err)
}

// readErr keeps io.EOF and turns any other failure into the client's error.
func (l *limitReader) readErr(err error) error {
	var se *silo.Error
	if err == nil || err == io.EOF || errors.As(err, &se) {
		return err
	}
	return silo.Errorf(silo.EINVALID, l.param, "We could not read the body of '%s' to its end: %v.", l.param, err)
}
