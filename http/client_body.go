package http

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
)

// multipartBody is a multipart/form-data request body that streams its one
// file field from a reader. The fields, the file part's header and the closing
// boundary are small and written by a multipart.Writer into buffers; the data
// between them is read only as the request goes out. Unlike an io.Pipe fed by
// a goroutine, this knows its exact length up front and leaves no goroutine
// behind when the server answers before reading it all (a 413).
type multipartBody struct {
	r           io.Reader
	contentType string
	length      int64 // -1: unknown, the request is chunked
}

// MultipartBody returns the multipart/form-data body of one file field, as
// AddPart sends a part: its header, the size bytes of data streamed as the
// body is read (nothing is copied), and the closing boundary; with its exact
// length (-1 when size is) and Content-Type.
func MultipartBody(field, filename string, data io.Reader, size int64) (body io.Reader, length int64, contentType string, err error) {
	b, err := newSizedMultipartBody(nil, field, filename, data, size)
	if err != nil {
		return nil, 0, "", err
	}
	return b.r, b.length, b.contentType, nil
}

// newMultipartBody returns the body of the fields (name, value pairs, sent
// first) and the file field reading data.
func newMultipartBody(fields [][2]string, field, filename string, data io.Reader) (*multipartBody, error) {
	return newSizedMultipartBody(fields, field, filename, data, sizeOf(data))
}

// newSizedMultipartBody is newMultipartBody of data of size bytes (-1: unknown).
func newSizedMultipartBody(fields [][2]string, field, filename string, data io.Reader, size int64) (*multipartBody, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return nil, err
		}
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`,
		quoteEscaper.Replace(field), quoteEscaper.Replace(filename)))
	h.Set("Content-Type", "application/octet-stream")
	if _, err := mw.CreatePart(h); err != nil {
		return nil, err
	}
	headLen := buf.Len()
	if err := mw.Close(); err != nil {
		return nil, err
	}
	all := buf.Bytes()
	head, tail := all[:headLen], all[headLen:]
	b := &multipartBody{
		r:           io.MultiReader(bytes.NewReader(head), data, bytes.NewReader(tail)),
		contentType: mw.FormDataContentType(),
		length:      -1,
	}
	if size >= 0 {
		b.length = int64(len(head)) + size + int64(len(tail))
	}
	return b, nil
}

// prepare sets the request's Content-Type and length. A known length keeps the
// request from being chunked, which some servers (OpenAI's among them) refuse.
func (b *multipartBody) prepare(req *http.Request) {
	req.Header.Set("Content-Type", b.contentType)
	req.ContentLength = b.length
}

// quoteEscaper escapes a quoted multipart header value as mime/multipart does.
var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "%0D", "\n", "%0A")

// sizeOf returns how many bytes r has left to read, or -1 when that cannot be
// known without reading: a reader with Len (bytes.Reader, strings.Reader,
// bytes.Buffer), a regular *os.File, an *io.LimitedReader of a known reader,
// or a reader with Size (io.SectionReader), less what was already read when
// it can also seek.
func sizeOf(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case *os.File:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		off, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		return max(fi.Size()-off, 0)
	case *io.LimitedReader:
		n := sizeOf(v.R)
		if n < 0 {
			return -1
		}
		return max(min(n, v.N), 0)
	case interface{ Size() int64 }:
		if s, ok := r.(io.Seeker); ok {
			off, err := s.Seek(0, io.SeekCurrent)
			if err != nil {
				return -1
			}
			return max(v.Size()-off, 0)
		}
		return v.Size()
	}
	return -1
}

// fileName returns the base name of a named reader (an *os.File), or def.
func fileName(r io.Reader, def string) string {
	if n, ok := r.(interface{ Name() string }); ok {
		if b := filepath.Base(n.Name()); b != "." && b != string(filepath.Separator) {
			return b
		}
	}
	return def
}
