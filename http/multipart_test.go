package http

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/textproto"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// parsedField is one field as a reader of multipart bodies returned it.
type parsedField struct {
	header   textproto.MIMEHeader
	name     string
	filename string
	data     []byte
	skipped  bool // only partly read: data is not compared
}

// parsed is what a reader made of a whole body: the fields it returned, and
// whether it ended cleanly (io.EOF from the next field) or with an error,
// and if so where: the data of the field it failed in, so far.
type parsed struct {
	fields  []parsedField
	failed  bool
	partial []byte // the data of the field the error came in, if any
	err     error
}

// parseStd reads body with mime/multipart, the reference.
func parseStd(body []byte, boundary string) parsed {
	var out parsed
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			out.failed, out.err = true, err
			return out
		}
		data, err := io.ReadAll(p)
		if err != nil {
			out.failed, out.partial, out.err = true, data, err
			return out
		}
		out.fields = append(out.fields, parsedField{p.Header, p.FormName(), p.FileName(), data, false})
	}
}

// parseOurs reads body with formReader, the body arriving in pieces of
// random sizes and the data read with buffers of random sizes (from 1 byte
// to larger than the reader's own buffer, so that reads straight into them
// and reads through the buffer mix). With skip, some fields are left after
// one read, for nextPart to read the rest.
func parseOurs(body []byte, boundary string, seed uint64, skip bool) parsed {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	src := &piecesReader{b: body, rng: rng}
	m := newFormReader(src, boundary)
	defer m.release()
	sizes := []int{1, 3, 64, 4 << 10, directReadMin, 100 << 10, bodyBufferSize + 13}
	big := make([]byte, bodyBufferSize+13)
	var out parsed
	for {
		p, err := m.nextPart(1 << 30)
		if err == io.EOF {
			return out
		}
		if err != nil {
			out.failed, out.err = true, err
			return out
		}
		var data []byte
		skipped := skip && rng.IntN(3) == 0
		for {
			buf := big[:sizes[rng.IntN(len(sizes))]]
			n, err := p.Read(buf)
			data = append(data, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				out.failed, out.partial, out.err = true, data, err
				return out
			}
			if skipped {
				break
			}
		}
		out.fields = append(out.fields, parsedField{p.Header, p.FormName(), p.FileName(), data, skipped})
	}
}

// piecesReader returns b in pieces of random sizes, sometimes none.
type piecesReader struct {
	b   []byte
	rng *rand.Rand
}

func (r *piecesReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	var n int
	switch r.rng.IntN(5) {
	case 0:
		n = 0
	case 1:
		n = 1 + r.rng.IntN(8)
	case 2:
		n = 1 + r.rng.IntN(100)
	default:
		n = 1 + r.rng.IntN(300<<10)
	}
	n = copy(p, r.b[:min(n, len(r.b))])
	r.b = r.b[n:]
	return n, nil
}

// sameParse fails t unless ours read body as mime/multipart did: the same
// fields, headers and bytes, and an error exactly where it had one.
func sameParse(t *testing.T, body []byte, boundary string, seed uint64) {
	t.Helper()
	want := parseStd(body, boundary)
	sameFields(t, body, boundary, seed, want, parseOurs(body, boundary, seed, false))
	sameFields(t, body, boundary, seed, want, parseOurs(body, boundary, seed, true))
}

func sameFields(t *testing.T, body []byte, boundary string, seed uint64, want, got parsed) {
	t.Helper()
	partialKnown := true
	if n := len(got.fields); got.failed && n > 0 && got.fields[n-1].skipped && n == len(want.fields)+1 {
		// The error came as nextPart read the rest of a skipped field:
		// mime/multipart met it in the same field.
		got.fields, partialKnown = got.fields[:n-1], false
	}
	if len(got.fields) != len(want.fields) || got.failed != want.failed {
		t.Fatalf("boundary %q, body %q (seed %d):\nmime/multipart: %d fields, failed %v (%v)\nformReader:     %d fields, failed %v (%v)",
			clipQ(boundary), clipQ(string(body)), seed, len(want.fields), want.failed, want.err, len(got.fields), got.failed, got.err)
	}
	for i := range want.fields {
		w, g := want.fields[i], got.fields[i]
		if !reflect.DeepEqual(w.header, g.header) || w.name != g.name || w.filename != g.filename || !g.skipped && !bytes.Equal(w.data, g.data) {
			t.Fatalf("boundary %q, body %q (seed %d), field %d:\nmime/multipart: %v %q %q %d bytes %q\nformReader:     %v %q %q %d bytes %q",
				clipQ(boundary), clipQ(string(body)), seed, i, w.header, w.name, w.filename, len(w.data), clipQ(string(w.data)),
				g.header, g.name, g.filename, len(g.data), clipQ(string(g.data)))
		}
	}
	if want.failed && partialKnown && !bytes.Equal(want.partial, got.partial) {
		t.Fatalf("boundary %q, body %q (seed %d): before the error, mime/multipart read %d bytes of the field, formReader %d",
			clipQ(boundary), clipQ(string(body)), seed, len(want.partial), len(got.partial))
	}
}

func clipQ(s string) string {
	if len(s) > 600 {
		return s[:300] + fmt.Sprintf("…(%d bytes)…", len(s)-600) + s[len(s)-300:]
	}
	return s
}

// FuzzFormReader holds formReader to mime/multipart's reading of any body,
// whatever the pieces the body arrives in and the sizes of the reads.
func FuzzFormReader(f *testing.F) {
	for _, c := range formCases() {
		f.Add(c.boundary, []byte(c.body), uint64(0))
	}
	f.Fuzz(func(t *testing.T, boundary string, body []byte, seed uint64) {
		if boundary == "" || len(boundary) > maxBoundaryBytes {
			return // refused before a reader is made (newForm)
		}
		sameParse(t, body, boundary, seed)
	})
}

type formCase struct{ name, boundary, body string }

// formCases are bodies at the edges of the grammar.
func formCases() []formCase {
	const b = "XyZ"
	d := func(name string) string {
		return "Content-Disposition: form-data; name=\"" + name + "\"\r\n\r\n"
	}
	return []formCase{
		{"one field", b, "--XyZ\r\n" + d("a") + "hello\r\n--XyZ--\r\n"},
		{"no final line end", b, "--XyZ\r\n" + d("a") + "hello\r\n--XyZ--"},
		{"two fields, file", b, "--XyZ\r\n" + d("purpose") + "batch\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../x.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n{\"a\":1}\n\r\n--XyZ--\r\n"},
		{"preamble and epilogue", b, "preamble line\r\nanother\r\n--XyZ\r\n" + d("a") + "v\r\n--XyZ--\r\nepilogue\r\n"},
		{"lf only", b, "--XyZ\n" + "Content-Disposition: form-data; name=\"a\"\n\n" + "one\ntwo\n--XyZ\n" + "Content-Disposition: form-data; name=\"b\"\n\nthree\n--XyZ--\n"},
		{"transport padding", b, "--XyZ \t\r\n" + d("a") + "v\r\n--XyZ\t\r\n" + d("b") + "w\r\n--XyZ--  \r\n"},
		{"boundary-like data", b, "--XyZ\r\n" + d("a") + "x\r\n--XyZa\r\n--XyZ-x\r\n--Xy\r\n--\r\n\r\n--XyZ--\r\n"},
		{"empty field", b, "--XyZ\r\n" + d("a") + "\r\n--XyZ--\r\n"},
		{"empty field, boundary right after headers", b, "--XyZ\r\n" + d("a") + "--XyZ--\r\n"},
		{"dash after headers", b, "--XyZ\r\n" + d("a") + "--XyZx\r\n--XyZ--\r\n"},
		{"truncated data", b, "--XyZ\r\n" + d("a") + "hello"},
		{"truncated in boundary", b, "--XyZ\r\n" + d("a") + "hello\r\n--Xy"},
		{"truncated after boundary", b, "--XyZ\r\n" + d("a") + "hello\r\n--XyZ"},
		{"truncated headers", b, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"},
		{"only a boundary line", b, "--XyZ\r\n"},
		{"empty body", b, ""},
		{"no parts", b, "--XyZ--\r\n"},
		{"garbage between parts", b, "--XyZ\r\n" + d("a") + "v\r\n--XyZ\r\n" + d("b") + "w\r\n--XyZ junk\r\n--XyZ--\r\n"},
		{"line after data", b, "--XyZ\r\n" + d("a") + "v\r\n--XyZ\r\n\r\nx\r\n--XyZ--"},
		{"quoted-printable", b, "--XyZ\r\n" + "Content-Disposition: form-data; name=\"a\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=41=42c=\r\nd\r\n--XyZ--\r\n"},
		{"bad header", b, "--XyZ\r\n" + "no colon here\r\n\r\nv\r\n--XyZ--\r\n"},
		{"continued header", b, "--XyZ\r\n" + "Content-Disposition: form-data;\r\n name=\"a\"\r\n\r\nv\r\n--XyZ--\r\n"},
		{"not form-data", b, "--XyZ\r\n" + "Content-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--\r\n"},
		{"long preamble line", b, strings.Repeat("p", 5000) + "\r\n--XyZ\r\n" + d("a") + "v\r\n--XyZ--\r\n"},
		{"preamble line at the limit", b, strings.Repeat("p", maxLineBytes-2) + "\r\n--XyZ\r\n" + d("a") + "v\r\n--XyZ--\r\n"},
		{"long header line", b, "--XyZ\r\nX-Long: " + strings.Repeat("h", 9000) + "\r\n" + d("a") + "v\r\n--XyZ--\r\n"},
		{"cr runs", b, "--XyZ\r\n" + d("a") + "\r\r\r\n\r\n-\r\n--\r\n--X\r\r\n--XyZ--\r\n"},
		{"long boundary", strings.Repeat("b", 70), "--" + strings.Repeat("b", 70) + "\r\n" + d("a") + "v\r\n--" + strings.Repeat("b", 70) + "--\r\n"},
	}
}

func TestFormReader_Cases(t *testing.T) {
	for _, c := range formCases() {
		t.Run(c.name, func(t *testing.T) {
			for seed := range uint64(50) {
				sameParse(t, []byte(c.body), c.boundary, seed)
			}
		})
	}
}

// TestFormReader_Large reads bodies of several MiB — random data strewn with
// pieces of the boundary, in both line-end styles, several fields — as
// mime/multipart does, through reads straight into large buffers and through
// the reader's own.
func TestFormReader_Large(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 12 {
		boundary := fmt.Sprintf("%x", rng.Uint64())
		nl := "\r\n"
		if i%4 == 3 {
			nl = "\n"
		}
		var body bytes.Buffer
		var want [][]byte
		body.WriteString("preamble" + nl)
		for f := range 1 + rng.IntN(3) {
			fmt.Fprintf(&body, "--%s%sContent-Disposition: form-data; name=\"f%d\"; filename=\"f%d.bin\"%s%s", boundary, nl, f, f, nl, nl)
			data := strewn(rng, 1+rng.IntN(3<<20), boundary)
			want = append(want, data)
			body.Write(data)
			body.WriteString(nl)
		}
		body.WriteString("--" + boundary + "--" + nl + "epilogue")
		for seed := range uint64(3) {
			sameParse(t, body.Bytes(), boundary, seed)
			got := parseOurs(body.Bytes(), boundary, seed, false)
			if got.failed || len(got.fields) != len(want) {
				t.Fatalf("body %d: %d fields, failed %v (%v); want %d", i, len(got.fields), got.failed, got.err, len(want))
			}
			for j := range want {
				if !bytes.Equal(got.fields[j].data, want[j]) {
					t.Fatalf("body %d field %d: %d bytes read, %d sent, or different ones", i, j, len(got.fields[j].data), len(want[j]))
				}
			}
		}
	}
}

// strewn returns n random bytes with line ends, dashes and beginnings of the
// delimiter in them, none of them a whole delimiter.
func strewn(rng *rand.Rand, n int, boundary string) []byte {
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	b = b[:n]
	near := []string{"\r\n--", "\r\n-", "\r", "\n--", "\r\n--" + boundary[:len(boundary)/2], "\r\n--" + boundary + "x", "\r\n--" + boundary + "-x", "--" + boundary}
	for range n / 1000 {
		s := near[rng.IntN(len(near))]
		at := rng.IntN(n)
		copy(b[at:], s)
	}
	// No whole delimiter: a "\r\n--boundary" or "\n--boundary" followed by
	// what ends one would end the field early.
	for _, nl := range []string{"\r\n", "\n"} {
		d := []byte(nl + "--" + boundary)
		for i := bytes.Index(b, d); i >= 0; {
			b[i+len(nl)] = 'x'
			j := bytes.Index(b[i:], d)
			if j < 0 {
				break
			}
			i += j
		}
	}
	return b
}

// TestFormReader_BodyErrors: the body's own error (a stall, a reset) comes
// back from the read of the field it cut, as it is, and from nextPart
// wrapped in multipart's words.
func TestFormReader_BodyErrors(t *testing.T) {
	stall := errors.New("stalled")
	body := "--b\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n" + strings.Repeat("x", 100<<10)
	m := newFormReader(io.MultiReader(strings.NewReader(body), iotest.ErrReader(stall)), "b")
	defer m.release()
	p, err := m.nextPart(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, p)
	if !errors.Is(err, stall) || n != 100<<10 {
		t.Fatalf("read %d bytes, then %v; want %d, then the body's error", n, err, 100<<10)
	}

	m = newFormReader(io.MultiReader(strings.NewReader("--b\r\nContent-Dispo"), iotest.ErrReader(stall)), "b")
	defer m.release()
	if _, err := m.nextPart(1 << 20); !errors.Is(err, stall) {
		t.Fatalf("headers cut by the body's error: %v", err)
	}
	m = newFormReader(io.MultiReader(strings.NewReader("pream"), iotest.ErrReader(stall)), "b")
	defer m.release()
	if _, err := m.nextPart(1 << 20); !errors.Is(err, stall) || !strings.Contains(err.Error(), "multipart: NextPart:") {
		t.Fatalf("preamble cut by the body's error: %v", err)
	}
}

// TestFormReader_HeaderLimit: the preamble, boundary lines and headers of a
// field count against the limit; one byte more fails with errPartHeader.
func TestFormReader_HeaderLimit(t *testing.T) {
	head := "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: " + strings.Repeat("p", 1000) + "\r\n\r\n"
	body := head + "v\r\n--b--\r\n"
	for _, c := range []struct {
		limit int
		err   error
	}{{len(head), nil}, {len(head) - 1, errPartHeader}} {
		m := newFormReader(strings.NewReader(body), "b")
		_, err := m.nextPart(c.limit)
		m.release()
		if !errors.Is(err, c.err) {
			t.Errorf("limit %d for a header of %d bytes: %v, want %v", c.limit, len(head), err, c.err)
		}
	}
	// A body that never ends its preamble is refused within the limit.
	m := newFormReader(&endless{b: []byte("preamble\r\n")}, "b")
	defer m.release()
	if _, err := m.nextPart(64 << 10); !errors.Is(err, errPartHeader) {
		t.Fatalf("endless preamble: %v", err)
	}
}

// endless repeats b forever.
type endless struct{ b []byte }

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], e.b)
	}
	return n, nil
}

// TestFormReader_ReadsStraight: a field's bytes go from the body straight
// into a large enough buffer: for a 16 MiB field the reader copies only
// the bytes the body brought with the headers, and the boundary's tail.
func TestFormReader_ReadsStraight(t *testing.T) {
	data := strewn(rand.New(rand.NewPCG(3, 4)), 16<<20, "bnd")
	body := io.MultiReader(strings.NewReader("--bnd\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n"),
		bytes.NewReader(data), strings.NewReader("\r\n--bnd--\r\n"))
	cr := &readSizes{r: body}
	m := newFormReader(cr, "bnd")
	defer m.release()
	p, err := m.nextPart(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	buf := make([]byte, 1<<20)
	for {
		n, err := p.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("read %d bytes, sent %d", got.Len(), len(data))
	}
	if cr.big == 0 || cr.small > 4 {
		t.Fatalf("%d reads of the body of at least %d bytes, %d smaller: want the reads straight into the 1 MiB buffer", cr.big, bodyBufferSize, cr.small)
	}
}

// readSizes counts the reads asked of r by the size asked.
type readSizes struct {
	r          io.Reader
	big, small int
}

func (c *readSizes) Read(p []byte) (int, error) {
	if len(p) >= bodyBufferSize {
		c.big++
	} else {
		c.small++
	}
	return c.r.Read(p)
}

// benchBody is a form of one 64 MiB field of random bytes, as a client
// sends a part; its reads return at most 64 KiB, as a socket's do.
func benchBody(b *testing.B) (body []byte, boundary string) {
	b.Helper()
	boundary = strings.Repeat("7f", 30)
	var buf bytes.Buffer
	buf.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"data\"; filename=\"part\"\r\nContent-Type: application/octet-stream\r\n\r\n")
	buf.Write(strewn(rand.New(rand.NewPCG(5, 6)), 64<<20, boundary))
	buf.WriteString("\r\n--" + boundary + "--\r\n")
	b.SetBytes(int64(buf.Len()))
	return buf.Bytes(), boundary
}

type socketish struct{ r *bytes.Reader }

func (s socketish) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), 64<<10)]) }

// BenchmarkFormReader reads the field into 1 MiB buffers, as the disk store
// does; compare BenchmarkFormReader_Std (mime/multipart behind a 256 KiB
// bufio.Reader, as before formReader).
func BenchmarkFormReader(b *testing.B) {
	body, boundary := benchBody(b)
	dst := make([]byte, 1<<20)
	for b.Loop() {
		m := newFormReader(socketish{bytes.NewReader(body)}, boundary)
		p, err := m.nextPart(1 << 20)
		readField(b, p, err, dst)
		m.release()
	}
}

func BenchmarkFormReader_Std(b *testing.B) {
	body, boundary := benchBody(b)
	dst := make([]byte, 1<<20)
	for b.Loop() {
		mr := multipart.NewReader(bufio.NewReaderSize(socketish{bytes.NewReader(body)}, 256<<10), boundary)
		p, err := mr.NextPart()
		readField(b, p, err, dst)
	}
}

// readField reads the field p, which nextPart or NextPart returned with err,
// to its end through dst.
func readField(b *testing.B, p io.Reader, err error, dst []byte) {
	if err != nil {
		b.Fatal(err)
	}
	for err == nil {
		_, err = p.Read(dst)
	}
	if err != io.EOF {
		b.Fatal(err)
	}
}
