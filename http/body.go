package http

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/silo-dev/silo"
)

// DefaultStallTimeout is how long a request body may send nothing, or a
// response accept nothing, before the request is dropped.
const DefaultStallTimeout = 60 * time.Second

// MaxHeaderBytes is the most bytes of request line and headers a server
// should take (http.Server.MaxHeaderBytes): enough for any SDK's headers.
const MaxHeaderBytes = 64 << 10

// codeStalled is the http package's own code for a request dropped because its
// body stopped arriving; the client is unlikely to read the answer.
const codeStalled = "request_stalled"

// drainWait is how long the unread rest of a refused request's body may take:
// net/http reads up to 256 KiB of it so that the connection can serve another
// request, and closes the connection when that takes longer or there is more.
const drainWait = time.Second

// Sizes of the steps in which a response is written, each of which must make
// progress within the stall timeout: small enough that a slow but live client
// (a few KB/s) is never taken for a stalled one.
const (
	writeStep    = 64 << 10
	sendfileStep = 512 << 10
)

// withStall makes every request make progress or go: each read of its body
// must yield bytes, and each write of its response be taken, within stall;
// otherwise the read or write fails and net/http closes the connection, which
// frees everything the request held.
func withStall(stall time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctl := http.NewResponseController(w)
			// A deadline left by the connection's previous request must not
			// fail this one's first write.
			ctl.SetWriteDeadline(time.Time{})
			sw := &stallWriter{ResponseWriter: w, ctl: ctl, stall: stall}
			if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
				// Set now, not at the first read, so that net/http's own
				// reading of an unread body is bounded too.
				ctl.SetReadDeadline(time.Now().Add(stall))
				r.Body = &requestBody{rc: r.Body, ctl: ctl, stall: stall}
			}
			next.ServeHTTP(sw, r)
		})
	}
}

// requestBody is a request body whose every read must yield bytes within
// stall. Its failures are the client's: a stall is codeStalled, any other read
// failure (a client hanging up, broken chunked framing) EINVALID.
type requestBody struct {
	rc      io.ReadCloser
	ctl     *http.ResponseController
	stall   time.Duration
	eof     bool
	stalled bool
}

func (b *requestBody) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	b.ctl.SetReadDeadline(time.Now().Add(b.stall))
	n, err := b.rc.Read(p)
	switch {
	case err == nil:
	case err == io.EOF:
		b.eof = true
		// net/http now reads in the background to notice a hang-up, and
		// cancels the request when that read fails: no deadline may end it.
		b.ctl.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.stalled = true
		err = silo.Errorf(codeStalled, "", "The request body sent nothing for %v; the request is dropped.", b.stall)
	default:
		err = silo.Errorf(silo.EINVALID, "", "We could not read the request body to its end: %v.", err)
	}
	return n, err
}

func (b *requestBody) Close() error { return b.rc.Close() }

// maxDrainBytes is how much of a refused request's unread body is read, so
// that its connection can serve the next request (as net/http itself would).
const maxDrainBytes = 256 << 10

// refuse prepares the connection of a request answered with an error before
// its body was read to the end. A small rest of known length is read, for at
// most drainWait, so that the connection can carry on; anything else closes
// the connection at once: a request without a valid key, a body over its
// limit, a stalled one, one whose client waits for "100 Continue" (it is
// never sent), one of unknown length or longer than maxDrainBytes.
func (b *requestBody) refuse(w http.ResponseWriter, r *http.Request, code string) {
	if b.eof {
		return
	}
	if b.stalled || code == silo.EUNAUTHORIZED || code == silo.EPARTTOOLARGE || code == silo.EFILETOOLARGE ||
		r.Header.Get("Expect") != "" || r.ContentLength < 0 || r.ContentLength > maxDrainBytes {
		w.Header().Set("Connection", "close")
		return
	}
	b.ctl.SetReadDeadline(time.Now().Add(drainWait))
	if _, err := io.CopyN(io.Discard, b.rc, maxDrainBytes+1); err == io.EOF {
		b.eof = true
		b.ctl.SetReadDeadline(time.Time{})
		return
	}
	w.Header().Set("Connection", "close")
}

// copyBufs are the buffers of responses copied from a reader that is not a
// file range.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// stallWriter is a ResponseWriter each write of which must be taken within
// stall. It forwards ReadFrom in steps, so that a blob file still reaches
// net/http's sendfile path, and Unwrap, for http.ResponseController.
type stallWriter struct {
	http.ResponseWriter
	ctl   *http.ResponseController
	stall time.Duration
}

func (s *stallWriter) extend() { s.ctl.SetWriteDeadline(time.Now().Add(s.stall)) }

func (s *stallWriter) WriteHeader(code int) {
	s.extend()
	s.ResponseWriter.WriteHeader(code)
}

func (s *stallWriter) Write(b []byte) (int, error) {
	var total int
	for len(b) > 0 {
		s.extend()
		n, err := s.ResponseWriter.Write(b[:min(len(b), writeStep)])
		total += n
		b = b[n:]
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// ReadFrom sends a file range (an *io.LimitedReader of an *os.File, as disk
// blobs hand it) in steps of sendfileStep, each still a file range that
// net/http sends with sendfile; any other reader is copied through Write.
func (s *stallWriter) ReadFrom(r io.Reader) (int64, error) {
	rf, ok := s.ResponseWriter.(io.ReaderFrom)
	lr, limited := r.(*io.LimitedReader)
	if !ok || !limited {
		// A blob streamed from a network store: read it in large reads (a
		// 32 KiB io.Copy makes eight times the read calls), written in
		// steps of writeStep.
		buf := copyBufs.Get().(*[]byte)
		defer copyBufs.Put(buf)
		return io.CopyBuffer(writerOnly{s}, r, *buf)
	}
	var total int64
	for lr.N > 0 {
		s.extend()
		step := &io.LimitedReader{R: lr.R, N: min(lr.N, sendfileStep)}
		n, err := rf.ReadFrom(step)
		total += n
		lr.N -= n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, nil
}

// Flush pushes what was written so far.
func (s *stallWriter) Flush() {
	s.extend()
	s.ctl.Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *stallWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
