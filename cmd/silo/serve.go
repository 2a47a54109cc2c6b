package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/console"
	shttp "github.com/silo-dev/silo/http"
	"github.com/silo-dev/silo/service"
)

// serveConfig is the configuration of `silo serve`, from flags or SILO_* variables.
type serveConfig struct {
	addr         string
	data         string
	uploadTTL    time.Duration
	apiKeysFile  string
	reapInterval time.Duration
	garbageGrace time.Duration
	md5OnArrival bool
	shutdownWait time.Duration
	debugAddr    string
	db           string
	blobs        string
	stallTimeout time.Duration
	maxParts     int
	console      bool
	corsOrigins  []string
}

// serveCommand is `silo serve`.
func serveCommand(e *env) *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Silo server",
		Long: `Run the Silo server: the OpenAI Uploads and Files API under /v1.

Every flag can also be set with an environment variable SILO_<NAME>
(SILO_ADDR, SILO_DATA, SILO_UPLOAD_TTL, SILO_API_KEYS_FILE, ...). API keys come
from SILO_API_KEYS="sk-a=proj_a,sk-b=proj_b" or --api-keys-file (one key[=project]
per line); a key without a project belongs to project "default". With no key
configured, the server only listens on a loopback address and takes any bearer
token as project "default".

Records and bytes live under --data by default (SQLite and files). To run
several instances behind a load balancer, give them all one PostgreSQL
database and one S3 bucket: --db postgres://USER:PASSWORD@HOST:PORT/DATABASE
and --blobs s3://BUCKET/PREFIX?endpoint=http://HOST:PORT&region=REGION, with
the credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return serve(cmd.Context(), e, c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on, HOST:PORT")
	f.StringVar(&c.data, "data", "./silo-data", "directory that holds the database and the bytes")
	f.DurationVar(&c.uploadTTL, "upload-ttl", time.Hour, "how long an upload stays pending before it expires")
	f.StringVar(&c.apiKeysFile, "api-keys-file", "", "file of API keys, one key[=project] per line")
	f.DurationVar(&c.reapInterval, "reap-interval", 10*time.Second, "how often expired uploads, expired files and garbage are cleaned up")
	f.BoolVar(&c.md5OnArrival, "md5-on-arrival", true, "hash parts as they arrive, so that a complete with md5 and the parts in upload order finds the digest ready (about 1 CPU s per GiB ingested)")
	f.DurationVar(&c.garbageGrace, "garbage-grace", 10*time.Minute, "how long the bytes of a deleted or expired file (and of dropped parts) are kept, so that downloads under way finish")
	f.DurationVar(&c.shutdownWait, "shutdown-wait", 30*time.Second, "how long a shutdown waits for requests in flight")
	f.StringVar(&c.debugAddr, "debug-addr", "", "loopback HOST:PORT to serve net/http/pprof on (off by default)")
	f.StringVar(&c.db, "db", "", "metadata store: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE (default sqlite:<data>/silo.db)")
	f.DurationVar(&c.stallTimeout, "stall-timeout", shttp.DefaultStallTimeout, "drop a request whose body sends nothing, or whose response is not read, for this long")
	f.IntVar(&c.maxParts, "max-parallel-parts", 0, "how many parts and files are received at once; more wait a few seconds, then get 503 with Retry-After (default: as many as 32 MiB of buffers allow: 25 with local disk, 4 with S3)")
	f.StringVar(&c.blobs, "blobs", "", "blob store: file:PATH or s3://BUCKET/PREFIX?endpoint=http://HOST:PORT&region=REGION (default file:<data>/blobs)")
	f.BoolVar(&c.console, "console", true, "serve the web console at / (--console=false turns it off)")
	f.StringSliceVar(&c.corsOrigins, "cors-origins", nil, "origins whose web pages may call /v1 from a browser, comma-separated, e.g. https://app.example.com (none by default)")
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		return flagsFromEnv(cmd, e.getenv)
	}
	return cmd
}

// check refuses durations that make no sense, before anything starts.
func (c serveConfig) check() error {
	for _, d := range []struct {
		name     string
		v        time.Duration
		positive bool
	}{
		{"--upload-ttl", c.uploadTTL, true},
		{"--reap-interval", c.reapInterval, true},
		{"--garbage-grace", c.garbageGrace, false},
		{"--shutdown-wait", c.shutdownWait, false},
		{"--stall-timeout", c.stallTimeout, true},
	} {
		if d.v < 0 || d.positive && d.v == 0 {
			return usageError{fmt.Errorf("%s %v: expected a duration above zero", d.name, d.v)}
		}
	}
	if c.maxParts < 0 {
		return usageError{fmt.Errorf("--max-parallel-parts %d: expected 1 or more, or 0 for the default", c.maxParts)}
	}
	return nil
}

// flagsFromEnv sets every flag not given on the command line from SILO_<NAME>.
func flagsFromEnv(cmd *cobra.Command, getenv func(string) string) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		name := "SILO_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && !f.Changed && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = usageError{fmt.Errorf("%s=%q: %v", name, v, e)}
			}
		}
	})
	return err
}

func serve(ctx context.Context, e *env, c serveConfig) error {
	if err := c.check(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	keys, err := loadKeys(e.getenv("SILO_API_KEYS"), c.apiKeysFile)
	if err != nil {
		return err
	}
	auth := shttp.NewKeyring(keys)
	if len(keys) == 0 {
		if !loopback(c.addr) {
			return fmt.Errorf("refusing to listen on %s with no API key configured: set SILO_API_KEYS or --api-keys-file, or listen on 127.0.0.1", c.addr)
		}
		fmt.Fprintln(e.stderr, "WARNING: no API key configured (SILO_API_KEYS, --api-keys-file): any bearer token is accepted, as project \"default\". Fine on this machine only.")
		auth = func(string) (string, bool) { return "default", true }
	}

	st, err := openStores(ctx, c)
	if err != nil {
		return err
	}
	defer st.close()
	svc := service.New(st.meta, st.blobs, service.Config{UploadTTL: c.uploadTTL, GarbageGrace: c.garbageGrace, NoArrivalMD5: !c.md5OnArrival})
	if err := st.sweepAtStart(ctx, svc, log); err != nil {
		return err
	}

	if c.maxParts == 0 {
		var buf int
		if b, ok := st.blobs.(silo.PutBufferer); ok {
			buf = b.PutBufferBytes()
		}
		c.maxParts = shttp.ParallelBodies(buf)
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	stopDebug, err := startDebug(c.debugAddr, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopDebug()
	hc := shttp.Config{
		Uploads: svc, Files: svc, Auth: auth, Logger: log,
		StallTimeout: c.stallTimeout, MaxParallelBodies: c.maxParts,
		CORSOrigins: c.corsOrigins,
	}
	if c.console {
		hc.Console, hc.ConsolePrefix = console.Handler(), console.Prefix
	}
	srv := &http.Server{
		Handler:           shttp.NewHandler(hc),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    shttp.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(e.stdout, "Silo is listening on http://%s/v1\n", ln.Addr())
	if c.console {
		fmt.Fprintf(e.stdout, "Web console: http://%s/\n", ln.Addr())
	}

	reapCtx, stopReaper := context.WithCancel(context.WithoutCancel(ctx))
	reaped := make(chan struct{})
	go func() {
		defer close(reaped)
		reapLoop(reapCtx, svc, c.reapInterval, log)
	}()
	swept := st.sweeping(reapCtx, svc, log)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("shutting down: waiting for requests in flight", "max_wait", c.shutdownWait)
		sctx, cancel := context.WithTimeout(context.Background(), c.shutdownWait)
		err = srv.Shutdown(sctx)
		cancel()
		if err != nil {
			srv.Close()
		}
		<-served
	}
	stopReaper()
	<-reaped
	<-swept
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// reapLoop runs the reaper every interval until ctx ends.
func reapLoop(ctx context.Context, svc *service.Service, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := svc.Reap(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error("reaper", "err", err)
		}
		if st != (service.ReapStats{}) {
			log.Info("reaped", "expired_uploads", st.ExpiredUploads, "expired_files", st.ExpiredFiles, "deleted_blobs", st.DeletedBlobs)
		}
	}
}

// loadKeys reads API keys from SILO_API_KEYS ("k1=proj,k2") and a keys file
// (one key[=project] per line, # comments). A key without a project belongs to
// project "default".
func loadKeys(list, file string) (map[string]string, error) {
	keys := make(map[string]string)
	add := func(entry string) {
		entry = strings.TrimSpace(entry)
		if entry == "" || strings.HasPrefix(entry, "#") {
			return
		}
		key, proj, _ := strings.Cut(entry, "=")
		key, proj = strings.TrimSpace(key), strings.TrimSpace(proj)
		if proj == "" {
			proj = "default"
		}
		keys[key] = proj
	}
	for _, entry := range strings.Split(list, ",") {
		add(entry)
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("reading API keys: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			add(sc.Text())
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading API keys: %w", err)
		}
	}
	return keys, nil
}

// loopback reports whether addr's host is a loopback address or name.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
