package s3

import (
	"context"
	"errors"
	"io"
	"net"
)

// bodyWrite is the most one write(2) of a request body takes.
//
// net/http copies a body of known length to the connection through an
// io.LimitedReader and a 32 KiB buffer: a copy of every byte and a write(2)
// per 32 KiB. Writing a part's buffer straight from memory in 1 MiB writes
// saved the store 0.4 CPU s per GiB put (TestPutBench). Writing the whole
// part (8 MiB) in one write(2) saved the store as much, but cost the MinIO
// beside it more (in 17 of 23 paired runs, by about 1 CPU s per GiB), where
// 1 MiB writes cost it no more than 32 KiB ones.
var bodyWrite = 1 << 20

// bodyConn is a connection to the S3 server that writes a request body
// straight from the body's memory, bodyWrite bytes at a time. A part's body is
// a buffer in memory (a bytes.Reader, which the SDK passes on with its
// WriteTo), so net/http's copy is not needed.
type bodyConn struct {
	net.Conn
	chunk int // the most one write(2) takes
}

// wrapDial returns dial with its connections made bodyConns that write chunk
// bytes at most at a time.
func wrapDial(dial func(ctx context.Context, network, addr string) (net.Conn, error), chunk int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &bodyConn{Conn: c, chunk: chunk}, nil
	}
}

// errBodyTooLong is the error of a body longer than its Content-Length.
var errBodyTooLong = errors.New("s3: request body longer than its Content-Length")

// ReadFrom writes r to the connection: straight from r's memory when r is a
// body limited to its Content-Length whose reader has a WriteTo, else as the
// connection itself would (io.ReaderFrom of a TCP connection).
func (c *bodyConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if wt, ok := lr.R.(io.WriterTo); ok {
			w := &limitedWriter{w: c.Conn, left: lr.N, chunk: c.chunk}
			n, err := wt.WriteTo(w)
			lr.N -= n
			return n, err
		}
	}
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// limitedWriter writes at most left bytes to w, at most chunk bytes per Write
// to w (all at once if chunk is 0); a write past left fails.
type limitedWriter struct {
	w     io.Writer
	left  int64
	chunk int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	var tooLong bool
	if int64(len(p)) > l.left {
		p, tooLong = p[:l.left], true
	}
	chunk := l.chunk
	if chunk <= 0 {
		chunk = len(p)
	}
	var n int
	for n < len(p) {
		m, err := l.w.Write(p[n:min(n+chunk, len(p))])
		n += m
		l.left -= int64(m)
		if err != nil {
			return n, err
		}
	}
	if tooLong {
		return n, errBodyTooLong
	}
	return n, nil
}
