package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/console"
	shttp "github.com/silo-dev/silo/http"
	"github.com/silo-dev/silo/metrics"
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
	sweepEvery   time.Duration
	orphanGrace  time.Duration
	md5OnArrival string
	shutdownWait time.Duration
	debugAddr    string
	db           string
	blobs        string
	stallTimeout time.Duration
	maxParts     int
	quota        silo.Quota
	minFreeSpace int64
	tls          tlsFlags
	config       configFlags
	metrics      bool
	logFormat    string
	logLevel     string
	drainDelay   time.Duration
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
per line, or sha256:<hex>[=project] from silo keys hash); a key without a
project belongs to project "default". SIGHUP reads the keys file (and the TLS
certificate) again. With no key configured, the server only listens on a
loopback address and takes any bearer token as project "default".

--config FILE reads flags from a YAML file whose keys are the flag names
(addr: 0.0.0.0:8080). A flag on the command line wins over its SILO_*
variable, which wins over the file.

Records and bytes live under --data by default (SQLite and files). To run
several instances behind a load balancer, give them all one PostgreSQL
database and one S3 bucket: --db postgres://USER:PASSWORD@HOST:PORT/DATABASE
and --blobs s3://BUCKET/PREFIX?endpoint=http://HOST:PORT&region=REGION, with
the credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if c.config.print {
				return printConfig(cmd, e, c.config.from)
			}
			return serve(cmd.Context(), e, c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on, HOST:PORT")
	f.StringVar(&c.data, "data", "./silo-data", "directory that holds the database and the bytes")
	f.DurationVar(&c.uploadTTL, "upload-ttl", silo.DefaultUploadTTL, "how long an upload stays pending before it expires")
	f.StringVar(&c.apiKeysFile, "api-keys-file", "", "file of API keys, one key[=project] or sha256:<hex>[=project] (silo keys hash) per line; read again on SIGHUP")
	f.DurationVar(&c.reapInterval, "reap-interval", service.DefaultReapInterval, "how often expired uploads, expired files and garbage are cleaned up")
	f.DurationVar(&c.sweepEvery, "sweep-interval", service.DefaultSweepInterval, "how often bytes that no record names (left by a crash) and unfinished S3 multipart uploads are looked for and removed")
	f.DurationVar(&c.orphanGrace, "orphan-grace", service.DefaultOrphanGrace, "how old such bytes must be before the periodic sweep removes them: longer than any part takes to arrive, since another instance may be writing them")
	f.StringVar(&c.md5OnArrival, "md5-on-arrival", service.MD5OnArrivalAuto, "hash parts as they arrive, so that a complete with md5 and the parts in upload order finds the digest ready: on (inline, and parts that overtook the chain read back), inline (inline only), off, or auto (inline)")
	f.Lookup("md5-on-arrival").NoOptDefVal = service.MD5OnArrivalOn
	f.DurationVar(&c.garbageGrace, "garbage-grace", 10*time.Minute, "how long the bytes of a deleted or expired file (and of dropped parts) are kept, so that downloads under way finish")
	f.DurationVar(&c.shutdownWait, "shutdown-wait", 30*time.Second, "how long a shutdown waits for requests in flight")
	f.StringVar(&c.debugAddr, "debug-addr", "", "loopback HOST:PORT to serve net/http/pprof on (off by default)")
	f.StringVar(&c.db, "db", "", "metadata store: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE (default sqlite:<data>/silo.db)")
	f.DurationVar(&c.stallTimeout, "stall-timeout", shttp.DefaultStallTimeout, "drop a request whose body sends nothing, or whose response is not read, for this long")
	f.IntVar(&c.maxParts, "max-parallel-parts", 0, "how many parts and files are received at once; more wait a few seconds, then get 503 with Retry-After (default: as many as 32 MiB of buffers allow: 25 with local disk, 4 with S3)")
	f.StringVar(&c.blobs, "blobs", "", "blob store: file:PATH or s3://BUCKET/PREFIX?endpoint=http://HOST:PORT&region=REGION (default file:<data>/blobs)")
	f.BoolVar(&c.metrics, "metrics", true, "serve Prometheus metrics at GET /metrics (no key needed; see docs/METRICS.md)")
	f.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.DurationVar(&c.drainDelay, "drain-delay", 5*time.Second, "on SIGTERM, how long /readyz answers 503 while the server still takes requests, as long as some are in flight, so that a load balancer drains it")
	f.Var(sizeFlag{&c.quota.Bytes}, "quota-bytes", "most bytes one project may store, in files and in parts of pending uploads, e.g. 10GiB (0: no limit); beyond it 429 insufficient_quota")
	f.Int64Var(&c.quota.Files, "quota-files", 0, "most files one project may have (0: no limit)")
	f.Int64Var(&c.quota.PendingUploads, "quota-pending-uploads", 0, "most pending uploads one project may have (0: no limit)")
	c.minFreeSpace = 1 << 30
	f.Var(sizeFlag{&c.minFreeSpace}, "min-free-space", "free space that parts and files must leave on the volume of file: blobs, e.g. 64MiB (0: none); beyond it they get 507, while deletes, cancels and the reaper still work")
	c.tls.add(f)
	c.config.add(f)
	f.BoolVar(&c.console, "console", true, "serve the web console at / (--console=false turns it off)")
	f.StringSliceVar(&c.corsOrigins, "cors-origins", nil, "origins whose web pages may call /v1 from a browser, comma-separated, e.g. https://app.example.com (none by default)")
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		return c.config.apply(cmd, e.getenv)
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
		{"--sweep-interval", c.sweepEvery, true},
		{"--orphan-grace", c.orphanGrace, true},
		{"--shutdown-wait", c.shutdownWait, false},
		{"--drain-delay", c.drainDelay, false},
		{"--stall-timeout", c.stallTimeout, true},
	} {
		if d.v < 0 || d.positive && d.v == 0 {
			return usageError{fmt.Errorf("%s %v: expected a duration above zero", d.name, d.v)}
		}
	}
	if c.maxParts < 0 {
		return usageError{fmt.Errorf("--max-parallel-parts %d: expected 1 or more, or 0 for the default", c.maxParts)}
	}
	if c.quota.Files < 0 || c.quota.PendingUploads < 0 {
		return usageError{fmt.Errorf("--quota-files %d, --quota-pending-uploads %d: expected a count, 0 for no limit", c.quota.Files, c.quota.PendingUploads)}
	}
	if err := new(service.Config).SetMD5OnArrival(c.md5OnArrival); err != nil {
		return usageError{fmt.Errorf("--md5-on-arrival: %w", err)}
	}
	return nil
}

// flagsFromEnv sets every flag not given on the command line from SILO_<NAME>.
func flagsFromEnv(cmd *cobra.Command, getenv func(string) string) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		name := envName(f)
		if v := getenv(name); v != "" && !f.Changed && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = usageError{fmt.Errorf("%s=%q: %v", name, v, e)}
			}
		}
	})
	return err
}

// envName is the variable of a flag: SILO_ and its name in upper case, with _ for -.
func envName(f *pflag.Flag) string {
	return "SILO_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
}

func serve(ctx context.Context, e *env, c serveConfig) error {
	if err := c.check(); err != nil {
		return err
	}
	log, err := newLogger(e.stderr, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	keys, err := shttp.LoadKeyring(shttp.KeySources{List: e.getenv("SILO_API_KEYS"), ListName: "SILO_API_KEYS", File: c.apiKeysFile})
	if err != nil {
		return err
	}
	auth := keys.Auth
	if keys.Len() == 0 {
		if !loopback(c.addr) {
			return fmt.Errorf("refusing to listen on %s with no API key configured: set SILO_API_KEYS or --api-keys-file, or listen on 127.0.0.1", c.addr)
		}
		fmt.Fprintln(e.stderr, "WARNING: no API key configured (SILO_API_KEYS, --api-keys-file): any bearer token is accepted, as project \"default\". Fine on this machine only.")
		auth = anyTokenWhileEmpty(keys)
	}
	cert, err := c.tls.load(log)
	if err != nil {
		return err
	}
	stopReload := reloadOnHangup(keys, cert, log)
	defer stopReload()

	st, err := openStores(ctx, c, log)
	if err != nil {
		return err
	}
	defer st.close()
	scfg := service.Config{
		UploadTTL: c.uploadTTL, GarbageGrace: c.garbageGrace, Quota: c.quota,
		ReapInterval: c.reapInterval, SweepInterval: c.sweepEvery, OrphanGrace: c.orphanGrace, SharedStores: st.shared, Logger: log,
	}
	scfg.SetMD5OnArrival(c.md5OnArrival) // checked by check
	meta, blobs := st.meta, st.blobs
	var m *metrics.Metrics
	if c.metrics {
		m = metrics.New(metrics.Options{Build: buildInfo()})
		defer m.Close()
		meta, blobs = m.MetaStore(meta), m.BlobStore(blobs)
		scfg.Observer = m
	}
	svc := service.New(meta, blobs, scfg)
	defer svc.Close() // before the stores close: deferred after them
	if err := svc.SweepAtStart(ctx); err != nil {
		return fmt.Errorf("removing orphaned bytes: %w", err)
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
	stopping := make(chan struct{})
	hcfg := shttp.Config{
		Uploads: svc, Files: svc, Auth: auth, Logger: log,
		StallTimeout: c.stallTimeout, MaxParallelBodies: c.maxParts,
		Ready: svc.Ping, Stopping: stopping,
		CORSOrigins: c.corsOrigins,
	}
	if c.console {
		hcfg.Console, hcfg.ConsolePrefix = console.Handler(), console.Prefix
	}
	if m != nil {
		hcfg.Observer, hcfg.Metrics = m, m.Handler()
		m.TrackStored(metrics.UsageTotals(st.meta), metrics.StoredOptions{})
	}
	var flight inFlight
	srv := &http.Server{
		Handler:           flight.wrap(shttp.NewHandler(hcfg)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    shttp.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(e.stdout, "Silo is listening on %s://%s/v1\n", scheme(cert), ln.Addr())
	logStarted(log, c, scheme(cert)+"://"+ln.Addr().String()+"/v1", keys.Len(), keys.Projects())
	if c.console {
		fmt.Fprintf(e.stdout, "Web console: %s://%s/\n", scheme(cert), ln.Addr())
	}

	reapCtx, stopReaper := context.WithCancel(context.WithoutCancel(ctx))
	reaped := make(chan struct{})
	go func() {
		defer close(reaped)
		svc.Run(reapCtx)
	}()

	served := make(chan error, 1)
	go func() { served <- serveTLS(srv, ln, cert) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		close(stopping)
		log.Info("shutting down: /readyz answers 503", "requests_in_flight", flight.n.Load(), "drain_delay", c.drainDelay)
		flight.drain(c.drainDelay)
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
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		log.Error("silo stopped", "err", err)
	} else {
		log.Info("silo stopped")
	}
	return err
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
