package pseudo

import (
	"bytes"
	"testing"
)

func TestBytes(t *testing.T) {
	a, b := Bytes(1000, 1), Bytes(1000, 1)
	if !bytes.Equal(a, b) {
		t.Fatal("two calls with one seed differ")
	}
	if bytes.Equal(a, Bytes(1000, 2)) {
		t.Fatal("two seeds give the same bytes")
	}
	if bytes.Equal(a[:500], a[500:]) || bytes.Count(a, []byte{0}) > 50 {
		t.Fatal("the bytes repeat or are mostly zero")
	}
}
