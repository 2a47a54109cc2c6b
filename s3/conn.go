package s3

import (
	"context"
	"errors"
	"io"
	"net"
)

// bodyConn is a connection to the S3 server that writes a request body in as
// few system calls as the kernel takes. net/http copies a body of known
// length to the connection through an io.LimitedReader and a 32 KiB buffer:
// a write(2) per 32 KiB, and a copy of every byte. A part's body is a buffer
// in memory (a bytes.Reader, which the SDK passes on with its WriteTo), so
// ReadFrom hands the whole buffer to the connection in one Write instead.
type bodyConn struct {
	net.Conn
}

// wrapDial returns dial with its connections made bodyConns.
func wrapDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &bodyConn{Conn: c}, nil
	}
}

// errBodyTooLong is the error of a body longer than its Content-Length.
var errBodyTooLong = errors.New("s3: request body longer than its Content-Length")

// ReadFrom writes r to the connection: in one go when r is a body limited to
// its Content-Length whose reader has a WriteTo, else as the connection
// itself would (io.ReaderFrom of a TCP connection).
func (c *bodyConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if wt, ok := lr.R.(io.WriterTo); ok {
			w := &limitedWriter{w: c.Conn, left: lr.N}
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

// limitedWriter writes at most left bytes to w; a write past them fails.
type limitedWriter struct {
	w    io.Writer
	left int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		n, err := l.w.Write(p[:l.left])
		l.left -= int64(n)
		if err == nil {
			err = errBodyTooLong
		}
		return n, err
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	return n, err
}
