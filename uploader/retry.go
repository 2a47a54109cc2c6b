package uploader

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"

	"github.com/silo-dev/silo"
)

// permanent marks an error that trying again cannot mend.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Retryable reports whether a request that failed with err may succeed if
// sent again:
//   - an error with a Retryable() bool method (an answer of the HTTP
//     client, http.ResponseError: the server's x-should-retry, else 408, 409,
//     429 and 5xx, as the official SDKs decide) says so itself;
//   - a context cancelled or past its deadline, and a server certificate
//     that is not trusted, are final;
//   - a *silo.Error from a service called directly is retried only when it
//     is silo.EUNAVAILABLE, the one code a server asks to be retried;
//   - any other error is a failed transport (a connection refused or reset,
//     an answer cut short) and is retried.
func Retryable(err error) bool {
	var r interface{ Retryable() bool }
	var se *silo.Error
	var unknownCA x509.UnknownAuthorityError
	var badCert x509.CertificateInvalidError
	var badHost x509.HostnameError
	var verify *tls.CertificateVerificationError
	switch {
	case err == nil, errors.As(err, new(permanent)):
		return false
	case errors.As(err, &r):
		return r.Retryable()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.As(err, &se):
		return se.Code == silo.EUNAVAILABLE
	case errors.As(err, &unknownCA), errors.As(err, &badCert), errors.As(err, &badHost), errors.As(err, &verify):
		return false
	}
	return true
}
