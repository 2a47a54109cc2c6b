package s3

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
)

// countConn records what is written to it, and how many writes it took.
type countConn struct {
	net.Conn
	buf    bytes.Buffer
	writes int
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes++
	return c.buf.Write(p)
}

// TestBodyConn checks that a body limited to its Content-Length whose reader
// has a WriteTo goes out in writes of the connection's chunk, that one longer
// than the limit fails after the limit, and that any other reader goes out
// whole.
func TestBodyConn(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 5<<15) // 2.5 MiB
	t.Run("Chunks", func(t *testing.T) {
		c := &countConn{}
		lr := &io.LimitedReader{R: bytes.NewReader(body), N: int64(len(body))}
		n, err := (&bodyConn{Conn: c, chunk: 1 << 20}).ReadFrom(lr)
		if err != nil || n != int64(len(body)) || !bytes.Equal(c.buf.Bytes(), body) {
			t.Fatalf("ReadFrom: got %d, %v, %d bytes written; want %d bytes", n, err, c.buf.Len(), len(body))
		}
		if c.writes != 3 || lr.N != 0 {
			t.Errorf("ReadFrom of 2.5 MiB in 1 MiB writes: %d writes, %d left to the limit; want 3 and 0", c.writes, lr.N)
		}
	})
	t.Run("TooLong", func(t *testing.T) {
		c := &countConn{}
		lr := &io.LimitedReader{R: bytes.NewReader(body), N: 1000}
		n, err := (&bodyConn{Conn: c, chunk: 1 << 20}).ReadFrom(lr)
		if !errors.Is(err, errBodyTooLong) || n != 1000 || !bytes.Equal(c.buf.Bytes(), body[:1000]) {
			t.Errorf("ReadFrom of a body longer than its limit: got %d, %v; want 1000, %v", n, err, errBodyTooLong)
		}
	})
	t.Run("PlainReader", func(t *testing.T) {
		c := &countConn{}
		n, err := (&bodyConn{Conn: c, chunk: 1 << 20}).ReadFrom(io.LimitReader(struct{ io.Reader }{strings.NewReader("hello, world")}, 5))
		if err != nil || n != 5 || c.buf.String() != "hello" {
			t.Errorf("ReadFrom of a plain reader: got %d, %v, %q; want 5 bytes, %q", n, err, c.buf.String(), "hello")
		}
	})
}
