package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckCommand is `silo healthcheck`: a container's HEALTHCHECK, for
// images that have no curl. It asks the local server's /healthz.
func healthcheckCommand(e *env) *cobra.Command {
	var url string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck [--url URL]",
		Short: "Exit 0 if the local silo serve answers /healthz with 200, else 1",
		Long: `Ask a silo serve on this machine whether it is alive: GET /healthz, exit 0 on
200 and 1 otherwise. The default URL follows SILO_ADDR (an unspecified host is
127.0.0.1) and is https when SILO_TLS_CERT is set; over https the certificate is
not checked, since the probe sends no secret and reads no data.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if url == "" {
				url = healthURL(e.getenv("SILO_ADDR"), e.getenv("SILO_TLS_CERT") != "")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return usagef("--url: %v", err)
			}
			t := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
			defer t.CloseIdleConnections()
			resp, err := (&http.Client{Transport: t}).Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %s", url, resp.Status)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "URL to ask (default from SILO_ADDR and SILO_TLS_CERT, else http://127.0.0.1:8080/healthz)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the answer")
	return cmd
}

// healthURL is the /healthz URL of a server listening on addr.
func healthURL(addr string, tls bool) string {
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "8080"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/healthz"
}
