package disk

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"sync"

	"github.com/silo-dev/silo"
)

const (
	// bufSize is the size of the pooled write buffers: large enough that a
	// write costs little per byte however small the reads from a client's body
	// are, small enough that many parallel Puts hold little memory (never a
	// whole blob).
	bufSize = 1 << 20
	// chunkSize is the most Put writes at once (less where a check of the
	// free space falls due: checkEvery), checking ctx in between, and
	// how many written bytes make it ask the kernel to start flushing them, so
	// that the device works while the rest arrives and the final flush has
	// little left to do.
	chunkSize = 8 << 20
)

// writers are pooled buffered writers of bufSize bytes.
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, bufSize) }}

// Put stores the bytes read from r under key and returns how many there were.
// When it returns nil they are on the device under their name. When reading r
// fails, Put returns r's error as it is; when ctx ends, ctx's error; either
// way nothing new is stored under key. EINVALID for a bad key, ESTORAGEFULL
// when the file system is full or the free space is below the reserve
// (Options.MinFreeSpace), before the first byte of r is read or as soon as
// the writing brings it there.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.space.refill()
	if err := s.space.check(); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return 0, putErr(key, err)
	}
	committed := false
	defer func() {
		if !committed {
			f.Close() // a second Close after a failed one only reports ErrClosed
			os.Remove(f.Name())
		}
	}()

	n, err := copyIn(ctx, key, f, r, s.space)
	if err != nil {
		return 0, err
	}
	// fdatasync flushes the bytes and the size, all a new file needs; its
	// name is made durable by the rename and the directory sync below.
	if err := datasync(f); err != nil {
		return 0, putErr(key, err)
	}
	if err := f.Close(); err != nil {
		return 0, putErr(key, err)
	}
	// The last chance to give up: a cancelled Put must leave nothing.
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	file, fanDir := s.path(key)
	if err := s.ensureFanDir(fanDir); err != nil {
		return 0, putErr(key, err)
	}
	if err := os.Rename(f.Name(), file); err != nil {
		return 0, putErr(key, err)
	}
	committed = true
	if err := syncDir(fanDir); err != nil {
		// The blob may or may not survive a crash, so the Put fails; should
		// the removal fail too, the orphan sweep finds the blob unreferenced.
		os.Remove(file)
		return 0, putErr(key, err)
	}
	return n, nil
}

// copyIn copies r to f. A reader that is an io.WriterTo writes itself: one
// that holds its bytes in memory (a bytes.Reader) is then written from there,
// with no copy. Any other reader is read into a pooled buffer, flushed when
// full, so that writes are large. copyIn returns how many bytes it wrote;
// r's error unchanged; a write error as a storage error; sp's refusal when
// the free space falls below the reserve; ctx's error when ctx ends.
func copyIn(ctx context.Context, key string, f *os.File, r io.Reader, sp *space) (int64, error) {
	sink := &fileSink{ctx: ctx, f: f, space: sp}
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(sink)
	defer func() {
		bw.Reset(nil) // drop f, and any bytes left after an error
		writers.Put(bw)
	}()

	var err error
	if wt, ok := r.(io.WriterTo); ok {
		_, err = wt.WriteTo(bw)
	} else {
		_, err = bw.ReadFrom(r) // a clean end of r is no error
	}
	if err == nil {
		err = bw.Flush()
	}
	switch {
	case sink.err != nil:
		// Whatever r's WriteTo made of it, the failure was the sink's.
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(sink.err, ctxErr) {
			return 0, ctxErr
		}
		if refused := (*silo.Error)(nil); errors.As(sink.err, &refused) {
			return 0, refused // the reserve reached
		}
		return 0, putErr(key, sink.err)
	case err != nil:
		return 0, err
	}
	// The bytes that reached the file, whatever r's WriteTo counted.
	return sink.off, nil
}

// fileSink writes to f in chunks of at most chunkSize bytes, checking ctx
// before each and starting write-back after each, and the free space every
// checkEvery bytes. It keeps its own error so that copyIn can tell it from
// the reader's.
type fileSink struct {
	ctx     context.Context
	f       *os.File
	space   *space
	off     int64 // bytes written
	kicked  int64 // bytes handed to write-back
	checked int64 // bytes written when the free space was last checked
	err     error
}

func (w *fileSink) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	written := 0
	for len(p) > 0 {
		if err := w.ctx.Err(); err != nil {
			w.err = err
			return written, err
		}
		if w.off-w.checked >= checkEvery {
			if err := w.space.check(); err != nil {
				w.err = err
				return written, err
			}
			w.checked = w.off
		}
		// A chunk ends where the next check is due.
		chunk := p[:min(len(p), chunkSize, int(w.checked+checkEvery-w.off))]
		m, err := w.f.Write(chunk)
		written += m
		if err != nil {
			w.err = err
			return written, err
		}
		w.off += int64(m)
		p = p[m:]
		if w.off-w.kicked >= chunkSize {
			startWriteback(w.f, w.kicked, w.off-w.kicked)
			w.kicked = w.off
		}
	}
	return written, nil
}
