package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	shttp "github.com/silo-dev/silo/http"
	"github.com/silo-dev/silo/internal/certfile"
)

// reloadOnHangup reads the API keys file and the TLS certificate (if any)
// again on each SIGHUP, until the returned stop, which waits for the loop to
// end. A reload that fails keeps what was in use and says why.
func reloadOnHangup(keys *shttp.Keyring, cert *certfile.Cert, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-hup:
			}
			if err := keys.Reload(); err != nil {
				log.Error("SIGHUP: API keys not reloaded, keeping the old ones", "err", err, "keys", keys.Len())
			} else {
				log.Info("SIGHUP: API keys reloaded", "keys", keys.Len())
			}
			if cert == nil {
				continue
			}
			if err := cert.Reload(); err != nil {
				log.Error("SIGHUP: TLS certificate not reloaded, keeping the one in use", "err", err)
			} else {
				log.Info("SIGHUP: TLS certificate reloaded")
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(quit)
		<-done
	}
}

// anyTokenWhileEmpty is the Auth of a server started with no key (on a
// loopback address): any token is project "default" until SIGHUP brings keys,
// and again if a reload leaves none.
func anyTokenWhileEmpty(keys *shttp.Keyring) func(string) (string, bool) {
	return func(token string) (string, bool) {
		if keys.Len() == 0 {
			return "default", true
		}
		return keys.Auth(token)
	}
}
