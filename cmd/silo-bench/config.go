package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// phaseNames are the phases in the order they run; --only picks some.
var phaseNames = []string{"ingest", "sequential", "complete", "manyparts", "download", "memory", "creates", "list", "profile"}

// config is what the flags ask for.
type config struct {
	dir         string // parent of every data directory of the run
	siloBin     string // a built silo binary; "" builds one
	runs        int    // ingest and download runs, each side
	parallel    int    // parts in flight during ingest
	partSize    int64
	ingestSize  int64
	sizes       []int64       // upload sizes for complete latency
	startGap    time.Duration // between part starts in the staggered complete
	inflight    int           // parts in flight at once for the memory figure
	clients     int           // concurrent clients for creates
	createTime  time.Duration
	files       int    // files stored for the list figure
	listData    string // a silo data dir to seed (once) and reuse for the list figure
	listQueries int
	only        []string
	jsonPath    string
	profileDir  string
	profileTime time.Duration
	keep        bool
	sinkPlain   bool
	be          backend
	minioPID    int    // a MinIO process whose CPU time is reported, or 0
	manyParts   int    // parts of the upload of the many-parts complete
	markdown    bool   // write the table as markdown
	md5Mode     string // --md5-on-arrival of the main silo, "" for its default
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("silo-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sizes, only, partSize, ingestSize string
	fs.StringVar(&c.dir, "dir", "", "directory for the data of silo and the sink, on the disk to measure (default: a new temp dir under the current directory, removed at the end)")
	fs.StringVar(&c.siloBin, "silo", "", "silo binary to run (default: go build ./cmd/silo)")
	fs.IntVar(&c.runs, "runs", 5, "ingest and download runs per side, after one that warms up; the median is reported")
	fs.IntVar(&c.parallel, "parallel", 4, "parts in flight during ingest and the complete uploads")
	fs.StringVar(&partSize, "part-size", "64MiB", "size of one part")
	fs.StringVar(&ingestSize, "ingest-size", "1GiB", "bytes sent per ingest run")
	fs.StringVar(&sizes, "sizes", "1GiB,4GiB", "upload sizes at which complete latency is measured")
	fs.DurationVar(&c.startGap, "start-gap", 25*time.Millisecond, "time between part starts for the staggered upload-order complete")
	fs.IntVar(&c.inflight, "inflight", 16, "parts in flight at once for the peak-memory figure")
	fs.IntVar(&c.clients, "clients", 16, "concurrent clients for the creates figure")
	fs.DurationVar(&c.createTime, "create-time", 5*time.Second, "how long creates are measured")
	fs.IntVar(&c.files, "files", 1000000, "files stored for the list figure (seeded straight through the metadata store, records only)")
	fs.StringVar(&c.listData, "list-data", "", "silo data dir for the list figure: seeded up to --files on first use and kept, so later runs skip the seeding (with --db the records are in the schema silo_bench_list, kept too)")
	fs.IntVar(&c.listQueries, "list-queries", 200, "list requests per kind of page")
	fs.StringVar(&only, "only", "", "comma-separated phases to run (default all but profile): "+strings.Join(phaseNames, ","))
	fs.StringVar(&c.jsonPath, "json", "", "also write the figures as JSON to this file (- for stdout, instead of the table)")
	fs.StringVar(&c.profileDir, "profile", "", "write pprof CPU and heap profiles of silo during ingest, complete with md5 and download to this directory (runs the profile phase)")
	fs.DurationVar(&c.profileTime, "profile-time", 8*time.Second, "length of each CPU profile")
	fs.BoolVar(&c.keep, "keep", false, "keep the data directories")
	fs.BoolVar(&c.sinkPlain, "sink-plain", false, "make the sink copy with io.Copy (32KiB writes) instead of 1MiB writes")
	fs.StringVar(&c.be.blobs, "blobs", "", "run every silo of the run over this S3 bucket, s3://BUCKET/PREFIX?endpoint=http://HOST:PORT&region=REGION (credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), each under its own prefix; the reference side is then minio-go straight to the same bucket")
	fs.StringVar(&c.be.db, "db", "", "run every silo of the run over this PostgreSQL database, postgres://USER:PASSWORD@HOST:PORT/DATABASE, each in its own schema silo_bench_ROLE (the list figure's is kept)")
	fs.IntVar(&c.minioPID, "minio-pid", 0, "PID of the MinIO behind --blobs, to report its CPU time per GiB too")
	fs.IntVar(&c.manyParts, "many-parts", 10000, "parts (of one byte, seeded straight through the metadata store) of the upload completed without md5 in the manyparts phase")
	fs.BoolVar(&c.markdown, "markdown", false, "write the table as markdown")
	fs.StringVar(&c.md5Mode, "md5-on-arrival", "", "--md5-on-arrival of the main silo (default: silo's own default); the second silo always runs with off")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if c.partSize, err = parseSize(partSize); err != nil {
		return nil, fmt.Errorf("--part-size: %w", err)
	}
	if c.ingestSize, err = parseSize(ingestSize); err != nil {
		return nil, fmt.Errorf("--ingest-size: %w", err)
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := parseSize(s)
		if err != nil {
			return nil, fmt.Errorf("--sizes: %w", err)
		}
		c.sizes = append(c.sizes, n)
	}
	for _, n := range append([]int64{c.ingestSize}, c.sizes...) {
		if n <= 0 || n%c.partSize != 0 {
			return nil, fmt.Errorf("size %s is not a positive multiple of the part size %s", fmtBytes(n), fmtBytes(c.partSize))
		}
	}
	if c.partSize < 1<<10 {
		return nil, fmt.Errorf("--part-size: at least 1KiB")
	}
	if c.runs < 1 || c.parallel < 1 || c.inflight < 1 || c.clients < 1 || c.listQueries < 1 || c.manyParts < 1 {
		return nil, fmt.Errorf("--runs, --parallel, --inflight, --clients, --list-queries and --many-parts take 1 or more")
	}
	if c.manyParts > 10000 {
		return nil, fmt.Errorf("--many-parts: at most 10000, an upload's limit")
	}
	if c.be.blobs != "" && !strings.HasPrefix(c.be.blobs, "s3://") {
		return nil, fmt.Errorf("--blobs: expected s3://BUCKET/PREFIX?endpoint=…")
	}
	if c.be.db != "" && !strings.HasPrefix(c.be.db, "postgres://") && !strings.HasPrefix(c.be.db, "postgresql://") {
		return nil, fmt.Errorf("--db: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE")
	}
	if only != "" {
		for _, p := range strings.Split(only, ",") {
			if !slices.Contains(phaseNames, p) {
				return nil, fmt.Errorf("--only: unknown phase %q; expected some of %s", p, strings.Join(phaseNames, ","))
			}
			c.only = append(c.only, p)
		}
	}
	if c.profileDir != "" && c.only != nil && !slices.Contains(c.only, "profile") {
		c.only = append(c.only, "profile")
	}
	return c, nil
}

// selected reports whether phase runs: the profile phase only when asked.
func (c *config) selected(phase string) bool {
	if c.only != nil {
		return slices.Contains(c.only, phase)
	}
	return phase != "profile" || c.profileDir != ""
}

// summary is the configuration as the report shows it.
func (c *config) summary() map[string]string {
	sizes := make([]string, len(c.sizes))
	for i, n := range c.sizes {
		sizes[i] = fmtBytes(n)
	}
	return map[string]string{
		"runs":        strconv.Itoa(c.runs),
		"parallel":    strconv.Itoa(c.parallel),
		"part_size":   fmtBytes(c.partSize),
		"ingest_size": fmtBytes(c.ingestSize),
		"sizes":       strings.Join(sizes, ","),
		"inflight":    strconv.Itoa(c.inflight),
		"clients":     strconv.Itoa(c.clients),
		"files":       strconv.Itoa(c.files),
		"sink_writes": map[bool]string{false: "1MiB", true: "io.Copy"}[c.sinkPlain],
		"backend":     c.be.name(),
		"md5_mode":    c.md5Mode,
		"command":     strings.Join(os.Args, " "),
	}
}

// parseSize reads 64MiB, 1GiB, 4096 (bytes), 1.5GiB.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil || f < 0 {
				return 0, fmt.Errorf("invalid size %q: expected a number with KiB, MiB or GiB", s)
			}
			return int64(f * u.mult), nil
		}
	}
	return 0, fmt.Errorf("invalid size %q", s)
}

// fmtBytes writes n in the largest binary unit that divides it, or MB.
func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}
