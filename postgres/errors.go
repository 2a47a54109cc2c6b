package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/silo-dev/silo"
)

// SQLSTATE codes the store acts on; see PostgreSQL's errcodes appendix.
const (
	codeUniqueViolation     = "23505"
	codeSerialization       = "40001"
	codeDeadlock            = "40P01"
	codeDiskFull            = "53100"
	codeOutOfMemory         = "53200"
	codeTooManyConnections  = "53300"
	codeLockNotAvailable    = "55P03"
	codeQueryCanceled       = "57014"
	codeAdminShutdown       = "57P01"
	codeCrashShutdown       = "57P02"
	codeCannotConnectNow    = "57P03"
	codeConnectionException = "08" // the class: every 08xxx
)

// unavailable is the error of a database that cannot serve the call now but
// may shortly: the HTTP layer answers 503 with Retry-After, and clients retry.
func unavailable(why string) error {
	return silo.Errorf(silo.EUNAVAILABLE, "", "The metadata database is unavailable (%s); try again shortly.", why)
}

// translate turns the error of a call into what the caller may act on, by
// type and SQLSTATE code, never by message: a *silo.Error as it is; the
// caller's own cancellation as ctx's error; a database that is down,
// unreachable, restarting, overloaded or too slow for the store's time limit
// (op ended) as EUNAVAILABLE; a full disk as ESTORAGEFULL. Anything else stays
// internal.
func translate(caller context.Context, op context.Context, err error) error {
	if err == nil {
		return nil
	}
	var se *silo.Error
	if errors.As(err, &se) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == codeDiskFull:
			return silo.Errorf(silo.ESTORAGEFULL, "", "The metadata database is out of space; try again once space is freed.")
		case strings.HasPrefix(pe.Code, codeConnectionException),
			pe.Code == codeAdminShutdown, pe.Code == codeCrashShutdown, pe.Code == codeCannotConnectNow:
			return unavailable("it is shutting down or starting up")
		case pe.Code == codeTooManyConnections, pe.Code == codeOutOfMemory:
			return unavailable("it is overloaded")
		case pe.Code == codeSerialization, pe.Code == codeDeadlock, pe.Code == codeLockNotAvailable,
			pe.Code == codeQueryCanceled:
			return unavailable("it is busy")
		}
		return fmt.Errorf("postgres: %w", err)
	}
	if cerr := caller.Err(); cerr != nil {
		return cerr
	}
	if op.Err() != nil {
		return unavailable("it did not answer in time")
	}
	if connectionLost(err) {
		return unavailable("it cannot be reached")
	}
	return fmt.Errorf("postgres: %w", err)
}

// connectionLost reports whether err says the connection to the server could
// not be made or broke: refused, reset, closed by the server, timed out.
func connectionLost(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return true
	}
	// SafeToRetry: the request never reached the server; Timeout: no answer.
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// hasParam reports whether the connection string sets the parameter, in
// either form pgx takes: a URL's query or "key=value" words.
func hasParam(conn, name string) bool {
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		u, err := url.Parse(conn)
		return err == nil && u.Query().Has(name)
	}
	for _, w := range strings.Fields(conn) {
		if k, _, ok := strings.Cut(w, "="); ok && strings.TrimSpace(k) == name {
			return true
		}
	}
	return false
}
