package http

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/silo-dev/silo"
)

// fileContent is GET and HEAD /files/{file_id}/content. It serves one byte
// range when asked (the CLI resumes downloads with it) and streams with
// io.Copy straight from the service's reader, so a disk blob's WriteTo can
// reach net/http's sendfile. HEAD reads only the File's record.
func (s *server) fileContent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("file_id")
		ctx := r.Context()
		header := r.Header.Get("Range")
		if r.Method != http.MethodHead && header == "" {
			// The common case needs no size beforehand: one lookup.
			f, rc, err := s.files.OpenFile(ctx, id, 0, -1)
			if err != nil {
				s.fail(w, r, err, "file_id")
				return
			}
			defer rc.Close()
			contentHeaders(w, f, 0, f.Bytes, false)
			w.WriteHeader(http.StatusOK)
			s.copyContent(w, r, rc)
			return
		}
		f, err := s.files.GetFile(ctx, id)
		if err != nil {
			s.fail(w, r, err, "file_id")
			return
		}
		start, length, kind := parseRange(header, f.Bytes)
		if kind == rangeUnsatisfiable {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", f.Bytes))
			s.fail(w, r, silo.Errorf(silo.ERANGE, "", "The range %q is not satisfiable: the file has %d bytes.", silo.Clip(header), f.Bytes), "")
			return
		}
		partial := kind == rangePartial
		contentHeaders(w, f, start, length, partial)
		status := http.StatusOK
		if partial {
			status = http.StatusPartialContent
		}
		if r.Method == http.MethodHead {
			w.WriteHeader(status)
			return
		}
		_, rc, err := s.files.OpenFile(ctx, id, start, length)
		if err != nil {
			clearContentHeaders(w)
			s.fail(w, r, err, "file_id")
			return
		}
		defer rc.Close()
		w.WriteHeader(status)
		s.copyContent(w, r, rc)
	})
}

// copyContent streams rc to w. A failure halfway can no longer change the
// status; net/http closes the connection when fewer bytes than Content-Length
// were sent, so the client sees a cut-off download rather than a short file.
func (s *server) copyContent(w http.ResponseWriter, r *http.Request, rc io.Reader) {
	if _, err := io.Copy(w, rc); err != nil {
		if r.Context().Err() != nil {
			s.log.Info("download cut short by the client", "request_id", RequestID(r.Context()), "err", err)
			return
		}
		s.log.Error("download failed", "request_id", RequestID(r.Context()),
			"path", silo.Clip(r.URL.Path), "err", err)
	}
}

// contentHeaders sets the headers of a download of length bytes from start.
func contentHeaders(w http.ResponseWriter, f *silo.File, start, length int64, partial bool) {
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Disposition", contentDisposition(f.Filename))
	// The bytes are the user's; a browser must never guess them into HTML.
	h.Set("X-Content-Type-Options", "nosniff")
	if partial {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, f.Bytes))
	}
}

// clearContentHeaders undoes contentHeaders before an error answer.
func clearContentHeaders(w http.ResponseWriter) {
	for _, k := range []string{"Content-Length", "Accept-Ranges", "Content-Disposition", "Content-Range"} {
		w.Header().Del(k)
	}
}

// rangeKind is what a Range header asks of a file.
type rangeKind int

const (
	rangeWhole         rangeKind = iota // no header, or one we ignore
	rangePartial                        // one satisfiable range
	rangeUnsatisfiable                  // one range past the end
)

// parseRange resolves a Range header against a file of size bytes into the
// start and length to serve. Only a single "bytes=" range is honoured; a
// malformed or multiple range is ignored and the whole file served, which RFC
// 9110 allows and every client copes with.
func parseRange(header string, size int64) (start, length int64, kind rangeKind) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, rangeWhole
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, rangeWhole
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		// bytes=-n: the last n bytes.
		n, err := strconv.ParseInt(last, 10, 64)
		switch {
		case err != nil || n < 0:
			return 0, size, rangeWhole
		case size == 0:
			// Nothing to select and no way to write the Content-Range of
			// nothing: serve the empty whole.
			return 0, 0, rangeWhole
		case n == 0:
			return 0, 0, rangeUnsatisfiable
		}
		n = min(n, size)
		return size - n, n, rangePartial
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return 0, size, rangeWhole
	}
	b := size - 1
	if last != "" {
		b, err = strconv.ParseInt(last, 10, 64)
		if err != nil || b < a {
			return 0, size, rangeWhole
		}
		b = min(b, size-1)
	}
	if a >= size {
		return 0, 0, rangeUnsatisfiable
	}
	return a, b - a + 1, rangePartial
}

// maxPlainFilename is the longest plain filename a Content-Disposition
// carries; some clients refuse header lines of a few KiB.
const maxPlainFilename = 150

// contentDisposition returns an attachment disposition for filename: a quoted
// ASCII name safe in any header, at most maxPlainFilename bytes (shortened in
// the middle, keeping the extension), and the exact name in RFC 8187 form when
// it is not that. Names are at most silo.MaxFilenameBytes, so the header
// stays under 4 KiB; an older, longer one is cut to that.
func contentDisposition(filename string) string {
	if len(filename) > silo.MaxFilenameBytes {
		filename = strings.ToValidUTF8(filename[:silo.MaxFilenameBytes], "")
	}
	var ascii strings.Builder
	exact := true
	for _, c := range filename {
		switch {
		case c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '/':
			ascii.WriteByte('_')
		case c > 0x7e:
			ascii.WriteByte('_')
			exact = false
		default:
			ascii.WriteRune(c)
		}
	}
	name := ascii.String()
	if len(name) > maxPlainFilename {
		ext := ""
		if i := strings.LastIndexByte(name, '.'); i >= 0 && len(name)-i <= 16 {
			ext = name[i:]
		}
		name = name[:maxPlainFilename-len(ext)-1] + "_" + ext
		exact = false
	}
	if name == "" {
		name = "file"
	}
	v := `attachment; filename="` + name + `"`
	if !exact {
		v += "; filename*=UTF-8''" + encodeRFC8187(filename)
	}
	return v
}

// encodeRFC8187 percent-encodes every byte of s but RFC 8187's attr-chars.
// Control characters and path separators are replaced first, as in the ASCII
// name.
func encodeRFC8187(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == 0x7f || c == '/' || c == '\\':
			b.WriteByte('_')
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("!#$&+-.^_`|~", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
