package certfile

import (
	"crypto/tls"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/silo-dev/silo/internal/testca"
)

// write writes a file in place, with a modification time later than any
// before: a file system may stamp two writes in a row with one coarse time.
func write(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
	writes++
	mod := time.Now().Add(time.Duration(writes) * time.Second)
	if err := os.Chtimes(name, mod, mod); err != nil {
		t.Fatal(err)
	}
}

var writes int

func serial(t *testing.T, c *Cert) int64 {
	t.Helper()
	cert, err := c.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return cert.Leaf.SerialNumber.Int64()
}

// TestCert_FollowsFiles: a new pair is served from the next handshake on; a
// half-replaced pair keeps the old certificate until the key follows.
func TestCert_FollowsFiles(t *testing.T) {
	ca := testca.New(t)
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c1, k1, s1 := ca.Issue(t)
	write(t, cf, c1)
	write(t, kf, k1)
	c, err := New(cf, kf, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if got := serial(t, c); got != s1 {
		t.Fatalf("serial %d, want %d", got, s1)
	}

	c2, k2, s2 := ca.Issue(t)
	write(t, cf, c2) // the key is still the old one: the pair does not match
	if got := serial(t, c); got != s1 {
		t.Fatalf("with a mismatched pair: serial %d, want the old %d", got, s1)
	}
	if err := c.Reload(); err == nil {
		t.Fatal("Reload of a mismatched pair: no error")
	}
	if got := serial(t, c); got != s1 {
		t.Fatalf("after a failed Reload: serial %d, want the old %d", got, s1)
	}
	write(t, kf, k2)
	if got := serial(t, c); got != s2 {
		t.Fatalf("after the key: serial %d, want the new %d", got, s2)
	}

	os.Remove(kf)
	if got := serial(t, c); got != s2 {
		t.Fatalf("with the key file gone: serial %d, want %d", got, s2)
	}
}

func TestNew_Errors(t *testing.T) {
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := New(cf, kf, log); err == nil {
		t.Error("missing files: no error")
	}
	write(t, cf, []byte("not a certificate"))
	write(t, kf, []byte("not a key"))
	if _, err := New(cf, kf, log); err == nil {
		t.Error("garbage files: no error")
	}
}
