package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/silo-dev/silo/internal/testca"
)

// tlsFiles are a server's certificate and key files and the CA's.
type tlsFiles struct {
	ca        *testca.CA
	caFile    string
	cert, key string
	writes    int
}

func newTLSFiles(t *testing.T) *tlsFiles {
	dir := t.TempDir()
	f := &tlsFiles{ca: testca.New(t), caFile: filepath.Join(dir, "ca.pem"),
		cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem")}
	writeFile(t, f.caFile, string(f.ca.PEM))
	return f
}

// issue writes a new certificate and key in place of the old and returns the
// certificate's serial number. Each write gets a modification time of its
// own, later than the one before: a file system may stamp two writes in a
// row with one coarse time.
func (f *tlsFiles) issue(t *testing.T) int64 {
	t.Helper()
	cert, key, serial := f.ca.Issue(t)
	for _, w := range []struct {
		name string
		b    []byte
	}{{f.cert, cert}, {f.key, key}} {
		writeFile(t, w.name, string(w.b))
		f.writes++
		mod := time.Now().Add(time.Duration(f.writes) * time.Second)
		if err := os.Chtimes(w.name, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	return serial
}

// client returns an HTTP client of its own (its own connections) that
// trusts the test CA alone.
func (f *tlsFiles) client() *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: f.ca.Pool()},
		ForceAttemptHTTP2: true,
	}}
}

// getHealthz returns the protocol of a /healthz request and the serial of
// the certificate the connection it went over was made with.
func getHealthz(t *testing.T, hc *http.Client, baseURL string) (proto string, serial int64) {
	t.Helper()
	resp, err := hc.Get(strings.TrimSuffix(baseURL, "/v1") + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("GET /healthz: status %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	return resp.Proto, resp.TLS.PeerCertificates[0].SerialNumber.Int64()
}

// TestServe_TLS: with --tls-cert and --tls-key silo serves HTTPS and HTTP/2
// to openai-go and to our CLI (--ca-cert); a certificate replaced on disk
// while it runs is served to new connections, and a connection made before
// keeps working with the certificate it was made with. SIGHUP reloads it too.
func TestServe_TLS(t *testing.T) {
	f := newTLSFiles(t)
	first := f.issue(t)
	old := f.client()
	s := startSignalled(t, t.TempDir(), map[string]string{"SILO_API_KEYS": "sk-tls", "SILO_TLS_KEY": f.key}, old, "--tls-cert", f.cert)
	if !strings.HasPrefix(s.BaseURL, "https://") {
		t.Fatalf("base URL %s, want https", s.BaseURL)
	}
	if proto, serial := getHealthz(t, old, s.BaseURL); proto != "HTTP/2.0" || serial != first {
		t.Fatalf("got %s with certificate %d, want HTTP/2.0 with %d", proto, serial, first)
	}

	// openai-go: an upload in two parts, read back.
	ctx := context.Background()
	c := openai.NewClient(option.WithBaseURL(s.BaseURL), option.WithAPIKey("sk-tls"), option.WithMaxRetries(0), option.WithHTTPClient(old))
	data := pseudoRandom(3<<20, 7)
	u, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: int64(len(data)), Filename: "t.bin", MimeType: "application/octet-stream", Purpose: "user_data"})
	fatalIf(t, err)
	p1, err := c.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: bytes.NewReader(data[:2<<20])})
	fatalIf(t, err)
	p2, err := c.Uploads.Parts.New(ctx, u.ID, openai.UploadPartNewParams{Data: bytes.NewReader(data[2<<20:])})
	fatalIf(t, err)
	done, err := c.Uploads.Complete(ctx, u.ID, openai.UploadCompleteParams{PartIDs: []string{p1.ID, p2.ID}})
	fatalIf(t, err)
	resp, err := c.Files.Content(ctx, done.File.ID)
	fatalIf(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	fatalIf(t, err)
	if !bytes.Equal(got, data) {
		t.Fatalf("content over TLS: %d bytes differ from the %d sent", len(got), len(data))
	}

	// Our CLI trusts the CA with --ca-cert or SILO_CA_CERT, and not without.
	env := map[string]string{"OPENAI_BASE_URL": s.BaseURL, "OPENAI_API_KEY": "sk-tls", "SILO_CACHE_DIR": t.TempDir()}
	if r := runCLI(env, "", "files", "list"); r.code != 1 || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("CLI without the CA: exit %d, stderr %q; want 1 and a certificate error", r.code, r.stderr)
	}
	if r := runCLI(env, "", "files", "retrieve", done.File.ID, "--ca-cert", f.caFile); r.code != 0 || !strings.Contains(r.stdout, done.File.ID) {
		t.Errorf("CLI with --ca-cert: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Swap the certificate: new connections get the new one, the open one
	// goes on with the old.
	second := f.issue(t)
	if _, serial := getHealthz(t, f.client(), s.BaseURL); serial != second {
		t.Errorf("a new connection after the swap: certificate %d, want the new %d", serial, second)
	}
	if _, serial := getHealthz(t, old, s.BaseURL); serial != first {
		t.Errorf("the connection made before the swap: certificate %d, want its own %d", serial, first)
	}
	_, err = c.Files.Get(ctx, done.File.ID)
	fatalIf(t, err)
	env["SILO_CA_CERT"] = f.caFile
	path := filepath.Join(t.TempDir(), "u.bin")
	writeFile(t, path, string(data))
	if r := runCLI(env, "", "upload", path, "--purpose", "user_data", "--part-size", "1MiB", "--parallel", "3", "--md5"); r.code != 0 {
		t.Errorf("silo upload over HTTP/2 after the swap: exit %d\n%s", r.code, r.stderr)
	}

	// The container's HEALTHCHECK: silo healthcheck finds the server over https.
	hostport := strings.TrimSuffix(strings.TrimPrefix(s.BaseURL, "https://"), "/v1")
	if r := runCLI(map[string]string{"SILO_ADDR": hostport, "SILO_TLS_CERT": f.cert}, "", "healthcheck"); r.code != 0 {
		t.Errorf("silo healthcheck over TLS: exit %d, stderr %q", r.code, r.stderr)
	}

	// SIGHUP reloads the pair as well (here the same files again).
	s.signal(t, syscall.SIGHUP)
	waitFor(t, "the certificate's reload after SIGHUP", s.stderr.String, func(log string) bool {
		return strings.Contains(log, "SIGHUP: TLS certificate reloaded")
	})
	if _, serial := getHealthz(t, f.client(), s.BaseURL); serial != second {
		t.Errorf("after SIGHUP: certificate %d, want %d", serial, second)
	}
	s.stopGracefully(t)
}

// TestServe_TLSFlagsGoTogether: a certificate without a key (or the other way
// round) is a usage error.
func TestServe_TLSFlagsGoTogether(t *testing.T) {
	for _, args := range [][]string{{"--tls-cert", "c.pem"}, {"--tls-key", "k.pem"}} {
		r := runCLI(nil, "", append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "--tls-cert and --tls-key go together") {
			t.Errorf("serve %v: exit %d, stderr %q; want 2 and why", args, r.code, r.stderr)
		}
	}
}
