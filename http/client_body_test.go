package http

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"
)

// TestMultipartBody reads the body silo-bench sends a part in: its length is
// exact and it parses as one file field holding the data.
func TestMultipartBody(t *testing.T) {
	data := strings.Repeat("abc", 1000)
	body, n, ct, err := MultipartBody("data", `p"1`, io.MultiReader(strings.NewReader(data[:10]), strings.NewReader(data[10:])), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(body)
	if err != nil || int64(len(b)) != n {
		t.Fatalf("read %d bytes, %v; length says %d", len(b), err, n)
	}
	_, params, err := mime.ParseMediaType(ct)
	if err != nil {
		t.Fatal(err)
	}
	p, err := multipart.NewReader(bytes.NewReader(b), params["boundary"]).NextPart()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(p)
	if p.FormName() != "data" || p.FileName() != `p"1` || string(got) != data {
		t.Errorf("field %q, file %q, %d bytes; want data, p\"1 and %d bytes", p.FormName(), p.FileName(), len(got), len(data))
	}
	if _, n, _, _ := MultipartBody("data", "x", strings.NewReader("abc"), -1); n != -1 {
		t.Errorf("unknown size: length %d, want -1", n)
	}
}
