package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/postgres"
	"github.com/silo-dev/silo/sqlite"
)

// backend is where the silos of the run keep their records and bytes: by
// default SQLite and files under their data dirs; with --db a PostgreSQL
// schema per silo, with --blobs a prefix per silo in one S3 bucket.
type backend struct {
	db    string // postgres:// URL, or ""
	blobs string // s3:// URL, or ""
}

// name is how the report names the backend.
func (be backend) name() string {
	meta, blobs := "SQLite", "local disk"
	if be.db != "" {
		meta = "PostgreSQL"
	}
	if be.blobs != "" {
		blobs = "S3 (" + be.s3Endpoint() + ")"
	}
	return blobs + " + " + meta
}

// siloArgs are the flags that put a silo named role on the backend: each
// role has its own schema and its own prefix, so that silos of one run never
// reap or sweep each other's data.
func (be backend) siloArgs(role string) []string {
	var args []string
	if be.db != "" {
		args = append(args, "--db", be.pgURL(role))
	}
	if be.blobs != "" {
		args = append(args, "--blobs", be.s3URL(role))
	}
	return args
}

// pgURL is --db with search_path set to the role's schema.
func (be backend) pgURL(role string) string {
	u, _ := url.Parse(be.db)
	q := u.Query()
	q.Set("search_path", "silo_bench_"+role)
	u.RawQuery = q.Encode()
	return u.String()
}

// ensureSchema makes the role's schema if it does not exist (the store makes
// its tables in it).
func (be backend) ensureSchema(ctx context.Context, role string) error {
	if be.db == "" {
		return nil
	}
	conn, err := pgx.Connect(ctx, be.db)
	if err != nil {
		return fmt.Errorf("--db: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS silo_bench_"+role)
	return err
}

// s3URL is --blobs with the role appended to its prefix.
func (be backend) s3URL(role string) string {
	u, _ := url.Parse(be.blobs)
	u.Path = strings.TrimSuffix(u.Path, "/") + "/silo-bench-" + role
	return u.String()
}

// s3Endpoint is the endpoint of --blobs.
func (be backend) s3Endpoint() string {
	u, err := url.Parse(be.blobs)
	if err != nil {
		return ""
	}
	return u.Query().Get("endpoint")
}

// s3Bucket is the bucket of --blobs, and its prefix (with a trailing slash,
// or empty).
func (be backend) s3Bucket() (bucket, prefix string) {
	u, _ := url.Parse(be.blobs)
	prefix = strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	return u.Host, prefix
}

// openMeta opens the metadata store of the silo of role whose data dir is
// data, for seeding straight through the store.
func (be backend) openMeta(ctx context.Context, role, data string) (silo.MetaStore, error) {
	if be.db == "" {
		if err := os.MkdirAll(data, 0o755); err != nil {
			return nil, err
		}
		return sqlite.Open(data+"/silo.db", sqlite.Options{})
	}
	if err := be.ensureSchema(ctx, role); err != nil {
		return nil, err
	}
	// The seed's commits need not wait for the disk: the figures measure
	// the reads of what is there.
	u, _ := url.Parse(be.pgURL(role))
	q := u.Query()
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return postgres.Open(ctx, u.String(), postgres.Options{MaxConns: 32})
}

// direct is the baseline of the S3 backend: minio-go straight to the same
// bucket, under its own prefix, as a client that needs no silo would.
type direct struct {
	mc     *minio.Client
	bucket string
	prefix string
}

// newDirect makes the baseline client of --blobs with the credentials silo
// takes too (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), and the bucket if
// it does not exist.
func newDirect(ctx context.Context, be backend, hc *http.Client) (*direct, error) {
	ep, err := url.Parse(be.s3Endpoint())
	if err != nil || ep.Host == "" {
		return nil, fmt.Errorf("--blobs: the direct baseline needs an endpoint=http://HOST:PORT")
	}
	mc, err := minio.New(ep.Host, &minio.Options{
		Creds:     credentials.NewEnvAWS(),
		Secure:    ep.Scheme == "https",
		Transport: hc.Transport,
		Region:    "us-east-1",
	})
	if err != nil {
		return nil, err
	}
	bucket, prefix := be.s3Bucket()
	ok, err := mc.BucketExists(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("--blobs: %w", err)
	}
	if !ok {
		if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
			return nil, fmt.Errorf("--blobs: making bucket %s: %w", bucket, err)
		}
	}
	return &direct{mc: mc, bucket: bucket, prefix: prefix + "silo-bench-direct/"}, nil
}

// put stores part i of data as an object, streamed from memory.
func (d *direct) put(ctx context.Context, data *payload, i int) (string, error) {
	key := d.prefix + "part-" + strconv.Itoa(i)
	_, err := d.mc.PutObject(ctx, d.bucket, key, data.part(i), data.size(), minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		// No SHA-256 of the body over plain HTTP, as silo's S3 store does not
		// compute one either: the strongest reference.
		DisableContentSha256: true,
		// One request per part, as silo's S3 store sends a part that fits
		// its buffer; larger ones go in parts of the same size as silo's.
		PartSize: 64 << 20,
	})
	return key, err
}

// read reads the objects one after the other into nothing.
func (d *direct) read(ctx context.Context, keys []string, buf []byte) (int64, error) {
	var total int64
	for _, k := range keys {
		obj, err := d.mc.GetObject(ctx, d.bucket, k, minio.GetObjectOptions{})
		if err != nil {
			return total, err
		}
		n, err := discard(obj, buf)
		obj.Close()
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// clear removes every object under the baseline's prefix.
func (d *direct) clear(ctx context.Context) error { return d.removeUnder(ctx, d.prefix, "") }

// clearAll removes what the run left in the bucket: the baseline's objects
// and those of every silo of the run, but the list figure's, which are kept
// with its records (--list-data).
func (d *direct) clearAll(ctx context.Context) error {
	root := strings.TrimSuffix(d.prefix, "silo-bench-direct/")
	return d.removeUnder(ctx, root+"silo-bench-", root+"silo-bench-list/")
}

// removeUnder removes every object under prefix, but those under keep.
func (d *direct) removeUnder(ctx context.Context, prefix, keep string) error {
	for o := range d.mc.ListObjects(ctx, d.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return o.Err
		}
		if keep != "" && strings.HasPrefix(o.Key, keep) {
			continue
		}
		if err := d.mc.RemoveObject(ctx, d.bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// md5Bytes are the bytes silo read back or again to hash them so far: the
// read_back and complete counts of silo_md5_hashed_bytes_total, scraped from
// /metrics (0 if the server has no such series).
func (c *child) md5Bytes(ctx context.Context) (readBack, complete float64) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.baseURL+"/metrics", nil)
	if err != nil {
		return 0, 0
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(cctx))
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("silo_md5_hashed_bytes_total{")) {
			continue
		}
		f := strings.Fields(string(line))
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		switch {
		case strings.Contains(f[0], `"read_back"`):
			readBack = v
		case strings.Contains(f[0], `"complete"`):
			complete = v
		}
	}
	return readBack, complete
}

// seedFilesPG records n files of one byte in the role's schema with COPY:
// PostgreSQL orders the inserts of one project's files with a lock, so
// seeding through the store's CreateFile makes a few hundred a second. The
// rows are those CreateFile makes: the file, its one blob, the usage.
func (be backend) seedFilesPG(ctx context.Context, role string, n int) error {
	meta, err := be.openMeta(ctx, role, "") // makes the schema and its tables
	if err != nil {
		return err
	}
	meta.Close()
	conn, err := pgx.Connect(ctx, be.pgURL(role))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	now := time.Now().Unix()
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"files"},
		[]string{"id", "project", "bytes", "created_at", "filename", "purpose", "expires_at"},
		pgx.CopyFromSlice(n, func(int) ([]any, error) {
			return []any{silo.NewID(silo.FileIDPrefix), project, int64(1), now, "seed.txt", "user_data", int64(0)}, nil
		})); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO file_blobs (file_seq, idx, key, size)
		SELECT f.seq, 0, 'files/' || f.id, 1 FROM files AS f
		WHERE NOT EXISTS (SELECT 1 FROM file_blobs AS b WHERE b.file_seq = f.seq)`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO project_usage (project, shard, bytes, files, pending_uploads) VALUES ($1, 0, $2, $2, 0)
		ON CONFLICT (project, shard) DO UPDATE SET bytes = project_usage.bytes + $2, files = project_usage.files + $2`,
		project, int64(n)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
