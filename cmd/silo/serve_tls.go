package main

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"

	"github.com/spf13/pflag"

	"github.com/silo-dev/silo/internal/certfile"
)

// tlsFlags are --tls-cert and --tls-key: with both, silo serve speaks HTTPS
// (and HTTP/2) only.
type tlsFlags struct {
	certFile, keyFile string
}

func (t *tlsFlags) add(f *pflag.FlagSet) {
	f.StringVar(&t.certFile, "tls-cert", "", "serve HTTPS with the certificate (chain) in this PEM file; read again when it changes or on SIGHUP")
	f.StringVar(&t.keyFile, "tls-key", "", "the private key (PEM) of --tls-cert")
}

// load returns the certificate to serve, nil for plain HTTP.
func (t tlsFlags) load(log *slog.Logger) (*certfile.Cert, error) {
	switch {
	case t.certFile == "" && t.keyFile == "":
		return nil, nil
	case t.certFile == "" || t.keyFile == "":
		return nil, usagef("--tls-cert and --tls-key go together: give both or neither")
	}
	return certfile.New(t.certFile, t.keyFile, log)
}

// serveTLS serves srv on ln, over TLS when cert is not nil. A certificate
// change applies to new connections; open ones keep theirs.
func serveTLS(srv *http.Server, ln net.Listener, cert *certfile.Cert) error {
	if cert == nil {
		return srv.Serve(ln)
	}
	srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cert.GetCertificate}
	// Parts are up to 64 MiB: HTTP/2's default 1 MiB receive window per
	// stream would cap an upload at 1 MiB per round trip.
	srv.HTTP2 = &http.HTTP2Config{MaxReceiveBufferPerStream: 8 << 20, MaxReceiveBufferPerConnection: 32 << 20}
	return srv.ServeTLS(ln, "", "") // sets up HTTP/2 next to HTTP/1.1
}

// scheme is the URL scheme silo serve answers on.
func scheme(cert *certfile.Cert) string {
	if cert != nil {
		return "https"
	}
	return "http"
}
