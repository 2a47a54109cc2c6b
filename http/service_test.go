package http

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/inmem"
	"github.com/silo-dev/silo/service"
)

// blobCount counts the blobs of an inmem store.
type blobCount struct{ s *inmem.BlobStore }

func (b blobCount) Len() int {
	n := 0
	b.s.List(context.Background(), func(string, time.Time) error { n++; return nil })
	return n
}

// newServiceHandler returns the handler over the real service on inmem
// stores, and a pending Upload of the given bytes made for testKey's project.
func newServiceHandler(t *testing.T, uploadBytes int64) (http.Handler, blobCount, string) {
	t.Helper()
	meta, blobs := inmem.NewMetaStore(), inmem.NewBlobStore()
	svc := service.New(meta, blobs, service.Config{NoArrivalMD5: true})
	h := NewHandler(Config{
		Uploads: svc,
		Files:   svc,
		Auth:    NewKeyring(map[string]string{testKey: testProject}),
		Logger:  slog.New(slog.DiscardHandler),
	})
	ctx := silo.WithProject(context.Background(), testProject)
	u, err := svc.CreateUpload(ctx, &silo.UploadCreate{Filename: "a.bin", Purpose: "user_data", Bytes: uploadBytes, MimeType: "application/octet-stream"})
	if err != nil {
		t.Fatal(err)
	}
	return h, blobCount{blobs}, u.ID
}

// failReader fails the test if it is read: a body that must not be read.
type failReader struct{ t *testing.T }

func (f failReader) Read([]byte) (int, error) {
	f.t.Error("the body was read")
	return 0, io.EOF
}

// recorder is a minimal ResponseWriter that keeps the body.
type recorder struct {
	h http.Header
	b bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return r.b.Write(b) }
func (r *recorder) WriteHeader(int)             {}

// serveFunc runs f on a recorder and returns what it wrote.
func serveFunc(f func(w *recorder)) string {
	r := &recorder{h: make(http.Header)}
	f(r)
	return r.b.String()
}
