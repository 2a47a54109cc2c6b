// Package s3 is a silo.BlobStore that keeps blobs as objects of an
// S3-compatible bucket (AWS S3, MinIO, Ceph, Cloudflare R2, …), so that any
// number of silo instances can share one set of bytes.
//
// A Put streams its reader to the bucket as it arrives: a blob that fits one
// buffer is one PutObject, a larger one a multipart upload of buffer-sized
// parts, one part uploading while the next fills. So a Put holds at most two
// buffers (16 MiB by default) whatever the blob's size, and writes nothing to
// local disk. A Put that fails aborts its multipart upload: nothing appears
// under the key. Open is one ranged GET, streamed.
//
// The key of blob K is PREFIX/K, where PREFIX comes from the store's URL.
package s3

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	"github.com/silo-dev/silo"
)

// MinPartSize is the smallest part S3 takes in a multipart upload (but the last).
const MinPartSize = 5 << 20

// maxParts is the most parts one multipart upload may have.
const maxParts = 10000

// Options tunes a Store. The zero value gives the defaults.
type Options struct {
	// PartSize is the size of a Put's buffers, and so of its parts: a blob up
	// to this size is one PutObject. A Put holds two buffers. Default 8 MiB,
	// at least MinPartSize.
	PartSize int
	// DialTimeout bounds making a connection, so that requests fail fast
	// while the endpoint is down. Default 3s.
	DialTimeout time.Duration
	// ResponseTimeout bounds the wait for the answer to a request once it is
	// sent, so that a stuck endpoint makes calls fail instead of hang.
	// Default 60s.
	ResponseTimeout time.Duration
	// MaxAttempts is how many times a request is tried when it fails in a
	// way that may pass (a dropped connection, a 5xx). Default 3.
	MaxAttempts int
	// Logger gets the AWS SDK's log lines, at debug. Nil discards them.
	Logger *slog.Logger
}

// Store is a silo.BlobStore and silo.BlobLister over a bucket.
type Store struct {
	client   *s3.Client
	bucket   string
	prefix   string // "" or ending in "/"
	checksum string // "" (CRC32) or checksumMD5
	opts     Options
	bufs     *bufferPool
}

var (
	_ silo.BlobStore  = (*Store)(nil)
	_ silo.BlobLister = (*Store)(nil)
)

// Open returns the store of the bucket that url names:
//
//	s3://BUCKET[/PREFIX][?endpoint=http://HOST:PORT][&region=REGION][&checksum=md5]
//
// With an endpoint (MinIO, Ceph, R2, …) addressing is path-style. Without a
// region the SDK's (AWS_REGION, the shared config) is used, else us-east-1.
// Writes carry a CRC32 checksum; checksum=md5 sends Content-MD5 instead, for
// servers that take no CRC32 checksums.
// Credentials come from the SDK's usual sources: AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), AWS_PROFILE and the shared
// files. Open fails if the bucket cannot be reached or does not exist.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	if opts.PartSize <= 0 {
		opts.PartSize = 8 << 20
	}
	opts.PartSize = max(opts.PartSize, MinPartSize)
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 3 * time.Second
	}
	if opts.ResponseTimeout <= 0 {
		opts.ResponseTimeout = 60 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	loc, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	loadOpts := []func(*config.LoadOptions) error{
		config.WithLogger(sdkLogger{log: opts.Logger, ctx: context.Background()}),
	}
	if loc.region != "" {
		loadOpts = append(loadOpts, config.WithRegion(loc.region))
	}
	if loc.endpoint != "" {
		// Not AWS: no instance metadata service to ask for credentials.
		loadOpts = append(loadOpts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("s3: loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if loc.endpoint != "" {
			o.BaseEndpoint = aws.String(loc.endpoint)
			o.UsePathStyle = true
		}
		o.HTTPClient = httpClient(opts)
		if loc.checksum == checksumMD5 {
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
		// A ranged GET, or one of an object made by a multipart upload, has
		// no checksum to validate; the SDK says so on every such GET.
		o.DisableLogOutputChecksumValidationSkipped = true
		o.Retryer = retry.NewStandard(func(r *retry.StandardOptions) {
			r.MaxAttempts = opts.MaxAttempts
			r.MaxBackoff = 500 * time.Millisecond
			// No retry budget: after an outage the budget would be spent,
			// and requests would fail without trying once the bucket is back.
			r.RateLimiter = ratelimit.None
		})
	})
	s := &Store{client: client, bucket: loc.bucket, prefix: loc.prefix, checksum: loc.checksum, opts: opts, bufs: newBufferPool(opts.PartSize)}
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(loc.bucket)}); err != nil {
		where := "AWS S3"
		if loc.endpoint != "" {
			where = loc.endpoint
		}
		if isStatus(err, http.StatusNotFound) {
			return nil, fmt.Errorf("s3: bucket %q does not exist at %s; create it first", loc.bucket, where)
		}
		return nil, fmt.Errorf("s3: checking bucket %q at %s: %w", loc.bucket, where, err)
	}
	return s, nil
}

// location is what an s3:// URL names.
type location struct {
	bucket, prefix, endpoint, region string
	checksum                         string // "" (CRC32) or checksumMD5
}

// parseURL parses s3://BUCKET[/PREFIX][?endpoint=…&region=…&checksum=…].
func parseURL(raw string) (*location, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("s3: invalid URL %q: expected s3://BUCKET/PREFIX?endpoint=http://HOST:PORT&region=REGION[&checksum=md5]", raw)
	}
	q := u.Query()
	for k := range q {
		if k != "endpoint" && k != "region" && k != "checksum" {
			return nil, fmt.Errorf("s3: invalid URL %q: unknown parameter %q; expected endpoint, region and checksum", raw, k)
		}
	}
	loc := &location{bucket: u.Host, endpoint: q.Get("endpoint"), region: q.Get("region"), checksum: q.Get("checksum")}
	switch loc.checksum {
	case checksumCRC32:
		loc.checksum = "" // the default
	case "", checksumMD5:
	default:
		return nil, fmt.Errorf("s3: invalid checksum %q: expected crc32 (the default) or md5", loc.checksum)
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		loc.prefix = p + "/"
	}
	if loc.endpoint != "" {
		e, err := url.Parse(loc.endpoint)
		if err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			return nil, fmt.Errorf("s3: invalid endpoint %q: expected http://HOST:PORT or https://HOST", loc.endpoint)
		}
	}
	return loc, nil
}

// httpClient returns the SDK's HTTP client with the store's time limits, and
// enough idle connections for many parallel parts.
func httpClient(opts Options) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = opts.DialTimeout }).
		WithTransportOptions(func(t *http.Transport) {
			t.ResponseHeaderTimeout = opts.ResponseTimeout
			t.MaxIdleConns = 256
			t.MaxIdleConnsPerHost = 64
			// Parts go out and blobs come in by the megabyte: large
			// buffers make few system calls per byte.
			t.WriteBufferSize = 256 << 10
			t.ReadBufferSize = 256 << 10
			if !noBodyConn {
				t.DialContext = wrapDial(t.DialContext, bodyWrite)
			}
		})
}

// noBodyConn turns bodyConn off, for measuring it (TestPutBench).
var noBodyConn = false

// unsignedPayload leaves a request's body out of its signature: the SDK
// otherwise hashes every byte of a part with SHA-256 over plain HTTP (over
// HTTPS it already does not), and the store pays a second pass for it. The
// body's integrity is still checked by the S3 server, by the checksum the
// request carries: CRC32 (ChecksumAlgorithm, which the SDK computes in one
// fast pass) or, with checksum=md5, Content-MD5.
func unsignedPayload(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware, markUnsigned)
}

// markUnsigned says so before the checksum middleware runs, which otherwise
// computes the SHA-256 in the same pass as the CRC32.
func markUnsigned(st *middleware.Stack) error {
	return st.Build.Add(middleware.BuildMiddlewareFunc("SiloUnsignedPayload",
		func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			return next.HandleBuild(v4.SetPayloadHash(ctx, "UNSIGNED-PAYLOAD"), in)
		}), middleware.After)
}

// Close releases nothing: the store holds no resource but idle connections.
func (s *Store) Close() error { return nil }

// PutBufferBytes is the buffer one Put holds until its blob outgrows it
// (silo.PutBufferer); a larger blob holds two.
func (s *Store) PutBufferBytes() int { return s.opts.PartSize }

// objectKey returns the object key of the blob key.
func (s *Store) objectKey(key string) string { return s.prefix + key }

// maxKeyLen is the longest blob key the store takes: S3 keys are at most 1024
// bytes, the prefix included.
func (s *Store) maxKeyLen() int { return 1024 - len(s.prefix) }

func (s *Store) checkKey(key string) error {
	if len(key) > s.maxKeyLen() || !silo.ValidBlobKey(key) {
		return silo.Errorf(silo.EINVALID, "", "Invalid blob key %q: expected at most %d bytes in segments of [A-Za-z0-9_-] joined by \"/\".", key, s.maxKeyLen())
	}
	return nil
}
