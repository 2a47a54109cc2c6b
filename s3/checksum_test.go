package s3

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/storetest"
)

// noCRC32 returns the URL of a fresh prefix whose endpoint is a proxy that
// plays an S3 server without CRC32 checksums: it refuses, with 501
// NotImplemented, any request that carries a flexible checksum (a
// x-amz-checksum-* or x-amz-sdk-checksum-algorithm header, an aws-chunked
// body with a trailer), and with 400 a write of bytes without Content-MD5.
func noCRC32(t *testing.T, checksum string) string {
	t.Helper()
	u, err := url.Parse(freshURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	target, err := url.Parse(q.Get("endpoint"))
	if err != nil || target.Host == "" {
		t.Skip("SILO_TEST_S3_URL has no endpoint to put a proxy in front of")
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host // signed
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k := range r.Header {
			k = strings.ToLower(k)
			if strings.HasPrefix(k, "x-amz-checksum-") || k == "x-amz-sdk-checksum-algorithm" || k == "x-amz-trailer" {
				http.Error(w, "<Error><Code>NotImplemented</Code><Message>checksum "+k+"</Message></Error>", http.StatusNotImplemented)
				return
			}
		}
		if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
			http.Error(w, "<Error><Code>NotImplemented</Code><Message>aws-chunked</Message></Error>", http.StatusNotImplemented)
			return
		}
		if r.Method == http.MethodPut && r.ContentLength > 0 && r.Header.Get("Content-Md5") == "" {
			http.Error(w, "<Error><Code>InvalidRequest</Code><Message>Content-MD5 required</Message></Error>", http.StatusBadRequest)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	q.Set("endpoint", srv.URL)
	if checksum != "" {
		q.Set("checksum", checksum)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// TestBlobStore_ContentMD5 runs the suite, with small parts so that large
// blobs are multipart uploads, against a server that takes no CRC32
// checksums, with checksum=md5.
func TestBlobStore_ContentMD5(t *testing.T) {
	testURL(t)
	storetest.BlobStore(t, func(t *testing.T) silo.BlobStore {
		return open(t, noCRC32(t, "md5"), Options{PartSize: MinPartSize})
	})
}

// TestPut_CRC32Refused checks that the server of TestBlobStore_ContentMD5
// does refuse what the store sends by default, small and multipart, so that
// the suite above proves something.
func TestPut_CRC32Refused(t *testing.T) {
	testURL(t)
	s := open(t, noCRC32(t, ""), Options{PartSize: MinPartSize})
	for _, n := range []int{10, MinPartSize + 1} {
		if _, err := s.Put(context.Background(), "k", bytes.NewReader(make([]byte, n))); err == nil {
			t.Errorf("Put of %d bytes with CRC32 checksums to a server that refuses them: no error", n)
		}
	}
}
