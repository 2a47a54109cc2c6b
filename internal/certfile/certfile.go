// Package certfile serves a TLS certificate from a pair of PEM files and
// picks up a renewed certificate (certbot, cert-manager, an operator's cp)
// without a restart and without touching open connections.
package certfile

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// Cert is a certificate read from a certificate file and a key file. Its
// GetCertificate, set as tls.Config.GetCertificate, looks at the files' size
// and modification time at each handshake (two stat calls, small beside the
// handshake) and reads them again when either changed; Reload reads them
// unconditionally. A pair that does not load (a key not yet written beside a
// new certificate) keeps the certificate in use, and is tried again when the
// files change again. Connections already open keep the certificate they
// were made with.
type Cert struct {
	certFile, keyFile string
	log               *slog.Logger

	mu    sync.Mutex
	cert  *tls.Certificate
	stamp stamp // of the files last read, whether or not they loaded
}

// stamp tells whether a pair of files changed: another size, modification
// time or file (a renamed-over file keeps its own modification time).
type stamp struct {
	cert, key os.FileInfo
}

func (s stamp) same(t stamp) bool {
	same := func(a, b os.FileInfo) bool {
		return a != nil && b != nil && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && os.SameFile(a, b)
	}
	return same(s.cert, t.cert) && same(s.key, t.key)
}

// New reads the certificate and key (PEM) from certFile and keyFile. Errors
// of later reloads go to log.
func New(certFile, keyFile string, log *slog.Logger) (*Cert, error) {
	c := &Cert{certFile: certFile, keyFile: keyFile, log: log}
	st, err := c.stat()
	if err != nil {
		return nil, err
	}
	if err := c.load(st); err != nil {
		return nil, err
	}
	return c, nil
}

// GetCertificate returns the current certificate, read again first if the
// files changed.
func (c *Cert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	st, err := c.stat()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && !st.same(c.stamp) {
		if err := c.load(st); err != nil {
			c.log.Error("TLS certificate not reloaded, keeping the one in use", "err", err)
		} else {
			c.log.Info("TLS certificate reloaded", "cert", c.certFile, "not_after", c.cert.Leaf.NotAfter)
		}
	}
	return c.cert, nil
}

// Reload reads the files again. On an error the certificate in use stays.
func (c *Cert) Reload() error {
	st, err := c.stat()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.load(st)
}

// load reads the pair; the caller holds mu (or owns c alone).
func (c *Cert) load(st stamp) error {
	c.stamp = st
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert = &cert
	return nil
}

func (c *Cert) stat() (stamp, error) {
	cf, err := os.Stat(c.certFile)
	if err != nil {
		return stamp{}, fmt.Errorf("TLS certificate: %w", err)
	}
	kf, err := os.Stat(c.keyFile)
	if err != nil {
		return stamp{}, fmt.Errorf("TLS key: %w", err)
	}
	return stamp{cf, kf}, nil
}
