package http

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/textproto"
	"path/filepath"
	"strings"
	"sync"
)

// formReader reads a multipart/form-data body field by field, with the
// grammar of mime/multipart — the same boundary rules, preamble, line endings
// and header parsing; FuzzFormReader holds the two to the same answers — but
// not its buffering. mime/multipart reads through a fixed 4 KiB buffer, so
// every byte of a 64 MiB part is copied from the socket into a buffer, from
// there into that one and from that one into the caller's, and a read never
// asks the socket for more than 4 KiB. formReader reads a field's bytes from
// the body straight into the caller's buffer, up to bodyBufferSize at a time,
// and looks for the boundary there: one copy, as any plain sink makes, and
// one scan. Only the few bytes that may start a boundary, and whatever
// follows the field's end, go back into its own buffer.
type formReader struct {
	src    io.Reader
	buf    *[]byte // bodyBufferSize bytes, pooled
	r, w   int     // (*buf)[r:w] is read from src and not consumed
	srcErr error   // src's first error, io.EOF at its end; sticky

	nl               []byte // "\r\n", or "\n" if the first boundary line ends so
	nlDashBoundary   []byte // nl + "--" + boundary: ends a field's data
	dashBoundary     []byte // "--" + boundary
	dashBoundaryDash []byte // "--" + boundary + "--": ends the form

	partsRead int
	cur       *formPart
}

const (
	// maxLineBytes is the longest boundary or preamble line, '\n' included:
	// mime/multipart's buffer, which cannot hold a longer one.
	maxLineBytes = 4 << 10
	// maxPartHeaderLines bounds the header lines of one field, as
	// mime/multipart's default does.
	maxPartHeaderLines = 10000
	// directReadMin is the smallest read given straight to the body: below
	// it, reading into formReader's own buffer and copying costs less than
	// a read of the socket per call.
	directReadMin = 32 << 10
	// maxEmptyReads is how many reads that return nothing and no error the
	// body may answer in a row before it counts as broken, as in bufio.
	maxEmptyReads = 100
)

// formBuffers are the buffers of formReaders, kept for reuse so that small
// requests do not each allocate one.
var formBuffers = sync.Pool{New: func() any { b := make([]byte, bodyBufferSize); return &b }}

// errPartHeader is the error for a field whose preamble and headers are over
// the limit given to nextPart.
var errPartHeader = errors.New("multipart field header too long")

// newFormReader reads the multipart body src, whose boundary is given. Its
// buffer goes back to the pool on release.
func newFormReader(src io.Reader, boundary string) *formReader {
	b := []byte("\r\n--" + boundary + "--")
	return &formReader{
		src:              src,
		buf:              formBuffers.Get().(*[]byte),
		nl:               b[:2],
		nlDashBoundary:   b[:len(b)-2],
		dashBoundary:     b[2 : len(b)-2],
		dashBoundaryDash: b[2:],
	}
}

// release gives the buffer back. The reader must not be used afterwards.
func (m *formReader) release() {
	if m.buf != nil {
		formBuffers.Put(m.buf)
		m.buf, m.src = nil, nil
	}
}

// fill reads src once into the free end of the buffer, after moving the
// unconsumed bytes to its start; src's error is kept in srcErr. It reports
// whether any byte came.
func (m *formReader) fill() bool {
	if m.srcErr != nil {
		return false
	}
	buf := *m.buf
	if m.r > 0 {
		m.w = copy(buf, buf[m.r:m.w])
		m.r = 0
	}
	if m.w == len(buf) {
		// Callers consume or fail before the buffer is full; this is a bug.
		m.srcErr = errors.New("multipart: internal buffer full")
		return false
	}
	for range maxEmptyReads {
		n, err := m.src.Read(buf[m.w:])
		m.w += n
		if err != nil {
			m.srcErr = err
		}
		if n > 0 || err != nil {
			return n > 0
		}
	}
	m.srcErr = io.ErrNoProgress
	return false
}

// readErr is the error a field's data meets once the buffered bytes are
// used up: the end of the body inside a field is unexpected.
func (m *formReader) readErr() error {
	if m.srcErr == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return m.srcErr
}

// readLine consumes and returns the next line, '\n' included (it is valid
// until the next read), or what is left of the body with srcErr. A line
// longer than maxLine, or one that takes more than *left bytes, fails;
// *left is reduced by the line's length.
func (m *formReader) readLine(maxLine int, left *int) ([]byte, error) {
	scanned := 0
	for {
		buf := (*m.buf)[m.r:m.w]
		if i := bytes.IndexByte(buf[scanned:], '\n'); i >= 0 {
			return m.takeLine(scanned+i+1, maxLine, left)
		}
		scanned = len(buf)
		if len(buf) >= maxLine {
			return nil, bufio.ErrBufferFull
		}
		if len(buf) > *left {
			return nil, errPartHeader
		}
		if !m.fill() {
			line, err := m.takeLine(m.w-m.r, maxLine, left)
			if err == nil {
				err = m.srcErr
			}
			return line, err
		}
	}
}

// takeLine consumes the next n bytes as a line within the limits of readLine.
func (m *formReader) takeLine(n, maxLine int, left *int) ([]byte, error) {
	if n > maxLine {
		return nil, bufio.ErrBufferFull
	}
	if *left -= n; *left < 0 {
		return nil, errPartHeader
	}
	line := (*m.buf)[m.r : m.r+n]
	m.r += n
	return line, nil
}

// nextPart returns the next field, after reading what is left of the
// current one; io.EOF after the last. The preamble, the boundary lines and
// the field's header block may take at most headerLimit bytes, or nextPart
// fails with errPartHeader.
func (m *formReader) nextPart(headerLimit int) (*formPart, error) {
	if m.cur != nil {
		m.cur.drain()
		m.cur = nil
	}
	left := headerLimit
	expectNewPart := false
	for {
		line, err := m.readLine(maxLineBytes, &left)
		if err == io.EOF && m.isFinalBoundary(line) {
			// "--boundary--" at the very end, without a line end.
			return nil, io.EOF
		}
		if err != nil {
			return nil, fmt.Errorf("multipart: NextPart: %w", err)
		}
		if m.isBoundaryDelimiterLine(line) {
			m.partsRead++
			p, err := m.newPart(&left)
			if err != nil {
				return nil, err
			}
			m.cur = p
			return p, nil
		}
		if m.isFinalBoundary(line) {
			return nil, io.EOF
		}
		if expectNewPart {
			return nil, fmt.Errorf("multipart: expecting a new Part; got line %q", string(line))
		}
		if m.partsRead == 0 {
			continue // the preamble
		}
		// The line end between a field's data and the boundary line.
		if bytes.Equal(line, m.nl) {
			expectNewPart = true
			continue
		}
		return nil, fmt.Errorf("multipart: unexpected line in Next(): %q", line)
	}
}

// isFinalBoundary reports whether line is "--boundary--", then optional
// spaces or tabs and a line end or nothing.
func (m *formReader) isFinalBoundary(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, m.dashBoundaryDash)
	if !ok {
		return false
	}
	rest = skipLWSP(rest)
	return len(rest) == 0 || bytes.Equal(rest, m.nl)
}

// isBoundaryDelimiterLine reports whether line is "--boundary", then
// optional spaces or tabs and a line end. The first one sets the line end of
// the whole body: "\n" alone, as some clients send, is taken if it ends that
// line (RFC 2046 says CRLF).
func (m *formReader) isBoundaryDelimiterLine(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, m.dashBoundary)
	if !ok {
		return false
	}
	rest = skipLWSP(rest)
	if m.partsRead == 0 && len(rest) == 1 && rest[0] == '\n' {
		m.nl = m.nl[1:]
		m.nlDashBoundary = m.nlDashBoundary[1:]
	}
	return bytes.Equal(rest, m.nl)
}

func skipLWSP(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// newPart reads a field's header block, which ends with an empty line; its
// lines take from *left.
func (m *formReader) newPart(left *int) (*formPart, error) {
	var block []byte
	for lines := 0; ; lines++ {
		line, err := m.readLine(len(*m.buf), left) // *left is the bound
		block = append(block, line...)
		if err == io.EOF {
			break // textproto says what a block cut short is, below
		}
		if err != nil {
			return nil, err
		}
		if len(line) == 1 || len(line) == 2 && line[0] == '\r' {
			break // "\n" or "\r\n": the empty line
		}
		if lines == maxPartHeaderLines {
			return nil, errors.New("multipart: message too large")
		}
	}
	tr := textproto.NewReader(bufio.NewReaderSize(bytes.NewReader(block), len(block)+16))
	header, err := tr.ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	p := &formPart{Header: header, m: m}
	p.r = rawPart{p}
	const cte = "Content-Transfer-Encoding"
	if strings.EqualFold(header.Get(cte), "quoted-printable") {
		header.Del(cte)
		p.r = quotedprintable.NewReader(p.r)
	}
	return p, nil
}

// formPart is one field of a form: its headers, and its data to read.
type formPart struct {
	Header textproto.MIMEHeader

	m     *formReader
	r     io.Reader // rawPart, or a quoted-printable decoder of it
	n     int       // the next n buffered bytes are data
	total int64     // data bytes returned
	err   error     // the error after the n bytes; io.EOF at the boundary

	disposition       string
	dispositionParams map[string]string
}

// FormName is the name parameter of a form-data Content-Disposition, or "".
func (p *formPart) FormName() string {
	p.parseDisposition()
	if p.disposition != "form-data" {
		return ""
	}
	return p.dispositionParams["name"]
}

// FileName is the last element of the filename parameter of the
// Content-Disposition, or "" (RFC 7578 §4.2: no directories).
func (p *formPart) FileName() string {
	p.parseDisposition()
	name := p.dispositionParams["filename"]
	if name == "" {
		return ""
	}
	return filepath.Base(name)
}

func (p *formPart) parseDisposition() {
	if p.dispositionParams != nil {
		return
	}
	var err error
	p.disposition, p.dispositionParams, err = mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		p.dispositionParams = map[string]string{}
	}
}

// Read reads the field's data; io.EOF at its end.
func (p *formPart) Read(d []byte) (int, error) { return p.r.Read(d) }

// drain reads the rest of the field, keeping nothing.
func (p *formPart) drain() {
	for {
		p.m.r += p.n
		p.total += int64(p.n)
		p.n = 0
		if p.err != nil {
			return
		}
		if !p.scan() {
			p.m.fill()
		}
	}
}

// scan looks for the end of the data in the buffered bytes, and reports
// whether it found data or an error: otherwise more bytes are needed.
func (p *formPart) scan() bool {
	m := p.m
	p.n, p.err = scanUntilBoundary((*m.buf)[m.r:m.w], m.dashBoundary, m.nlDashBoundary, p.total, m.readErr())
	return p.n > 0 || p.err != nil
}

// rawPart reads the data of a field as it is in the body.
type rawPart struct{ p *formPart }

func (rp rawPart) Read(d []byte) (int, error) {
	p, m := rp.p, rp.p.m
	for p.n == 0 && p.err == nil && !p.scan() {
		// The buffered bytes, if any, may start a boundary: more are needed.
		if len(d) >= directReadMin && m.srcErr == nil && m.w-m.r <= len(d)/2 {
			if n, err := p.readDirect(d); n > 0 || err != nil {
				return n, err
			}
			continue
		}
		m.fill()
	}
	if p.n == 0 {
		return 0, p.err
	}
	n := copy(d, (*m.buf)[m.r:m.r+min(len(d), p.n)])
	m.r += n
	p.n -= n
	p.total += int64(n)
	if p.n == 0 {
		return n, p.err
	}
	return n, nil
}

// readDirect reads the body straight into d after the few buffered bytes,
// which fit in d, and returns the data found there. What may start a
// boundary, or follows the end of the data, goes back into the buffer: at
// most what one read of d brought, which is never more than the buffer holds.
func (p *formPart) readDirect(d []byte) (int, error) {
	m := p.m
	buf := *m.buf
	d = d[:min(len(d), len(buf))]
	k := copy(d, buf[m.r:m.w])
	m.r, m.w = 0, 0
	var got int
	for range maxEmptyReads {
		n, err := m.src.Read(d[k:])
		got = n
		if err != nil {
			m.srcErr = err
		}
		if n > 0 || err != nil {
			break
		}
	}
	if got == 0 && m.srcErr == nil {
		m.srcErr = io.ErrNoProgress
	}
	n := k + got
	i, err := scanUntilBoundary(d[:n], m.dashBoundary, m.nlDashBoundary, p.total, m.readErr())
	m.w = copy(buf, d[i:n])
	p.total += int64(i)
	if i == 0 {
		p.err = err // (0, nil) asks for more bytes: the caller loops
		return 0, err
	}
	p.err = err
	return i, err
}

// scanUntilBoundary returns how many bytes of buf are data before the
// boundary, and the error that follows them: io.EOF at the boundary,
// readErr when buf is all data and the body failed or ended, nil when more
// bytes are needed to decide. total is the data returned before; at the
// start of the data a boundary line is also taken without the line end
// before it. These are mime/multipart's rules.
func scanUntilBoundary(buf, dashBoundary, nlDashBoundary []byte, total int64, readErr error) (int, error) {
	if total == 0 {
		if bytes.HasPrefix(buf, dashBoundary) {
			switch matchAfterPrefix(buf, dashBoundary, readErr) {
			case -1:
				return len(dashBoundary), nil
			case 0:
				return 0, nil
			case +1:
				return 0, io.EOF
			}
		}
		if bytes.HasPrefix(dashBoundary, buf) {
			return 0, readErr
		}
	}
	if i := bytes.Index(buf, nlDashBoundary); i >= 0 {
		switch matchAfterPrefix(buf[i:], nlDashBoundary, readErr) {
		case -1:
			return i + len(nlDashBoundary), nil
		case 0:
			return i, nil
		case +1:
			return i, io.EOF
		}
	}
	if bytes.HasPrefix(nlDashBoundary, buf) {
		return 0, readErr
	}
	// Everything up to the last line end is data, and from there on too
	// unless it may start a boundary.
	i := bytes.LastIndexByte(buf, nlDashBoundary[0])
	if i >= 0 && bytes.HasPrefix(nlDashBoundary, buf[i:]) {
		return i, nil
	}
	return len(buf), readErr
}

// matchAfterPrefix tells, for buf starting with prefix, whether what follows
// makes it a boundary (+1: a space, a tab, a line end or "--"), not one
// (-1), or cannot tell yet (0).
func matchAfterPrefix(buf, prefix []byte, readErr error) int {
	if len(buf) == len(prefix) {
		if readErr != nil {
			return +1
		}
		return 0
	}
	c := buf[len(prefix)]
	if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
		return +1
	}
	if c == '-' {
		if len(buf) == len(prefix)+1 {
			if readErr != nil {
				return -1
			}
			return 0
		}
		if buf[len(prefix)+1] == '-' {
			return +1
		}
	}
	return -1
}
