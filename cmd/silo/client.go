package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/silo-dev/silo"
	shttp "github.com/silo-dev/silo/http"
)

// defaultBaseURL is the base URL when neither --base-url nor OPENAI_BASE_URL is
// given: a local silo serve.
const defaultBaseURL = "http://127.0.0.1:8080/v1"

// clientConfig is what every client command shares: the global flags, read
// once the command line is parsed, and the environment.
type clientConfig struct {
	e       *env
	baseURL string
	apiKey  string
	format  string
	caCert  string
	// httpClient, when set, replaces the default HTTP client.
	httpClient *http.Client
}

// addClientCommands adds the client commands (uploads, uploads:parts, files,
// upload) and their shared flags to root. The flags belong to the client
// commands alone, so that silo serve --help lists only the server's; they may
// still come before the command (silo --format pretty files list).
func addClientCommands(root *cobra.Command, e *env) {
	c := &clientConfig{e: e}
	for _, cmd := range []*cobra.Command{uploadsCommand(c), uploadPartsCommand(c), filesCommand(c), uploadCommand(c)} {
		pf := cmd.PersistentFlags()
		pf.StringVar(&c.baseURL, "base-url", "", "API base URL (default $OPENAI_BASE_URL, else "+defaultBaseURL+")")
		pf.StringVar(&c.apiKey, "api-key", "", "API key (default $OPENAI_API_KEY)")
		pf.StringVar(&c.format, "format", "json", "output format of client commands: json, jsonl or pretty")
		pf.StringVar(&c.caCert, "ca-cert", "", "also trust the CA certificates in this PEM file, for a server whose certificate a private CA signed (default $SILO_CA_CERT)")
		root.AddCommand(cmd)
	}
}

// url returns the base URL: the flag, else OPENAI_BASE_URL, else the default.
func (c *clientConfig) url() string {
	u := c.baseURL
	if u == "" {
		u = c.e.getenv("OPENAI_BASE_URL")
	}
	if u == "" {
		u = defaultBaseURL
	}
	return strings.TrimRight(u, "/")
}

// key returns the API key: the flag, else OPENAI_API_KEY.
func (c *clientConfig) key() string {
	if c.apiKey != "" {
		return c.apiKey
	}
	return c.e.getenv("OPENAI_API_KEY")
}

// client checks the global flags and returns the API client they describe.
func (c *clientConfig) client() (*shttp.Client, error) {
	switch c.format {
	case "json", "jsonl", "pretty":
	default:
		return nil, usagef("invalid --format %q: expected json, jsonl or pretty", c.format)
	}
	hc := c.httpClient
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// silo upload keeps up to maxParallel requests going; idle connections
		// beyond the default two per host would be closed and dialled again.
		t.MaxIdleConnsPerHost = maxParallel
		// A server that took a whole request and never answers (a lost
		// network) fails the request, which silo upload then tries again.
		t.ResponseHeaderTimeout = 5 * time.Minute
		pool, err := c.roots()
		if err != nil {
			return nil, err
		}
		if pool != nil {
			t.TLSClientConfig = &tls.Config{RootCAs: pool}
		}
		hc = &http.Client{Transport: t}
	}
	return shttp.NewClient(c.url(), c.key(), hc), nil
}

// roots returns the system's CA certificates and those of --ca-cert (or
// SILO_CA_CERT), or nil for the system's alone.
func (c *clientConfig) roots() (*x509.CertPool, error) {
	file := c.caCert
	if file == "" {
		file = c.e.getenv("SILO_CA_CERT")
	}
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--ca-cert: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-cert %s: no PEM certificate in it", file)
	}
	return pool, nil
}

// fail reports the error of an API call. An error answer of the server
// prints its error object on stdout as the server sent it and a one-line
// summary of the same on stderr, and exits with status 1; a server that could
// not be reached gets a hint; any other error is left to main to print.
func (c *clientConfig) fail(err error) error {
	var re *shttp.ResponseError
	var se *silo.Error
	switch {
	case errors.As(err, &re) && re.Envelope != nil:
		if perr := c.print("error", re.Envelope); perr != nil {
			return perr
		}
		fmt.Fprintf(c.e.stderr, "Error: %s\n", envelopeSummary(re.StatusCode, re.Envelope))
		if hint := c.urlHint(re); hint != "" {
			fmt.Fprintln(c.e.stderr, hint)
		}
		return exitError{1}
	case errors.As(err, &se):
		// Refused before it was sent, by the same rules the server applies.
		if perr := c.print("error", shttp.NewErrorJSON(se)); perr != nil {
			return perr
		}
		fmt.Fprintf(c.e.stderr, "Error: %s\n", envelopeSummary(0, ptr(shttp.NewErrorJSON(se))))
		return exitError{1}
	}
	return c.reachHint(err)
}

func ptr[T any](v T) *T { return &v }

// envelopeSummary is the one-line human form of an error object: its message,
// then the status (0 for none), code and param that are set.
func envelopeSummary(status int, e *shttp.ErrorJSON) string {
	var extra []string
	if status != 0 {
		extra = append(extra, fmt.Sprintf("status %d", status))
	}
	if e.Error.Code != nil && *e.Error.Code != "" {
		extra = append(extra, "code "+*e.Error.Code)
	}
	if e.Error.Param != nil && *e.Error.Param != "" {
		extra = append(extra, "param "+*e.Error.Param)
	}
	msg := strings.TrimSpace(e.Error.Message)
	if len(extra) == 0 {
		return msg
	}
	return msg + " (" + strings.Join(extra, ", ") + ")"
}

// urlHint returns a hint for a 404 on a route the server does not know when
// the base URL does not end in /v1, the usual mistake; else "".
func (c *clientConfig) urlHint(re *shttp.ResponseError) string {
	u := c.url()
	if re.StatusCode != http.StatusNotFound || !strings.HasPrefix(re.Envelope.Error.Message, "Invalid URL") || strings.HasSuffix(u, "/v1") {
		return ""
	}
	return fmt.Sprintf("Hint: the base URL %s usually ends in /v1, as in --base-url %s/v1 (or OPENAI_BASE_URL).", u, u)
}

// reachHint returns err, told in words when no server could be reached at
// the base URL, with how to name another.
func (c *clientConfig) reachHint(err error) error {
	var dns *net.DNSError
	var why string
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		why = "connection refused"
	case errors.As(err, &dns):
		why = "no such host " + dns.Name
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		why = "no route to the host"
	default:
		return err
	}
	return fmt.Errorf("the server at %s is not reachable (%s).\nStart one with 'silo serve', or give the base URL of yours with --base-url or OPENAI_BASE_URL.", c.url(), why)
}

// usagef returns a usage error: main prints it with the command's help and
// exits with status 2.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// idArg sets *id from the single positional argument when the flag was not
// given, as the official CLI allows (files retrieve file-abc).
func idArg(args []string, flag string, id *string) error {
	switch {
	case len(args) == 0 && *id == "":
		return usagef("missing required flag --%s (or give it as the argument)", flag)
	case len(args) == 0:
		return nil
	case len(args) == 1 && *id == "":
		*id = args[0]
		return nil
	default:
		return usagef("unexpected extra arguments: %s", strings.Join(args, " "))
	}
}

// noArgs is a command's Args check for commands without positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected extra arguments: %s", strings.Join(args, " "))
	}
	return nil
}

// required returns a usage error naming the first empty required flag.
func required(flags ...string) error {
	for i := 0; i+1 < len(flags); i += 2 {
		if flags[i+1] == "" {
			return usagef("missing required flag --%s", flags[i])
		}
	}
	return nil
}

// groupCommand is a command that only holds subcommands; run alone or with an
// unknown subcommand it is a usage error.
func groupCommand(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%s needs a command", cmd.CommandPath())
			}
			return unknownCommand(cmd, args[0])
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}
