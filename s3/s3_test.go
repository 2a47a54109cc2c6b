package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/silo-dev/silo"
	"github.com/silo-dev/silo/storetest"
)

// testURL returns the bucket the tests may use, from SILO_TEST_S3_URL, or
// skips the test: these tests need a real S3 server (.ci/run starts MinIO).
// The bucket is created if it does not exist yet.
func testURL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv("SILO_TEST_S3_URL")
	if raw == "" {
		t.Skip("SILO_TEST_S3_URL is not set: no S3 server to test against (.ci/run starts MinIO; e.g. s3://silo-test/run?endpoint=http://127.0.0.1:9000&region=us-east-1, with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	ensureBucket(t, raw)
	return raw
}

// ensureBucket creates the bucket of the URL unless it exists.
func ensureBucket(t testing.TB, raw string) {
	t.Helper()
	loc, err := parseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	// Open fails on a missing bucket, so the client is made by hand.
	c := rawClient(t, loc)
	_, err = c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(loc.bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		t.Fatalf("creating bucket %s: %v", loc.bucket, err)
	}
}

// rawClient returns an S3 client of the URL's endpoint, with no store.
func rawClient(t testing.TB, loc *location) *s3.Client {
	t.Helper()
	cfg := aws.Config{Region: loc.region}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	cfg.Credentials = aws.NewCredentialsCache(envCredentials{})
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if loc.endpoint != "" {
			o.BaseEndpoint = aws.String(loc.endpoint)
			o.UsePathStyle = true
		}
	})
}

// envCredentials are the credentials of the standard AWS variables.
type envCredentials struct{}

func (envCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{
		AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
	}, nil
}

// freshURL returns the test URL with a new random prefix under its own, so
// that each store starts empty.
func freshURL(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + hex.EncodeToString(b)
	return u.String()
}

// open opens a store on url, failing the test on error.
func open(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	return s
}

func TestBlobStore(t *testing.T) {
	testURL(t)
	storetest.BlobStore(t, func(t *testing.T) silo.BlobStore { return open(t, freshURL(t), Options{}) })
}

// TestBlobStore_SmallParts runs the suite with the smallest parts S3 takes,
// so that its several-MiB blobs go up as multipart uploads.
func TestBlobStore_SmallParts(t *testing.T) {
	testURL(t)
	storetest.BlobStore(t, func(t *testing.T) silo.BlobStore { return open(t, freshURL(t), Options{PartSize: MinPartSize}) })
}

func TestOpen_MissingBucket(t *testing.T) {
	u, err := url.Parse(testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "silo-no-such-bucket"
	_, err = Open(context.Background(), u.String(), Options{})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open of a missing bucket: got %v, want an error saying it does not exist", err)
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want location
	}{
		{"s3://b", location{bucket: "b"}},
		{"s3://b/", location{bucket: "b"}},
		{"s3://b/p", location{bucket: "b", prefix: "p/"}},
		{"s3://b/p/q/?region=eu-west-1", location{bucket: "b", prefix: "p/q/", region: "eu-west-1"}},
		{"s3://b/p?endpoint=http://127.0.0.1:9000&region=us-east-1",
			location{bucket: "b", prefix: "p/", endpoint: "http://127.0.0.1:9000", region: "us-east-1"}},
		{"s3://b?checksum=md5", location{bucket: "b", checksum: "md5"}},
		{"s3://b?checksum=crc32", location{bucket: "b"}},
	} {
		got, err := parseURL(tc.url)
		if err != nil || *got != tc.want {
			t.Errorf("parseURL(%q) = %+v, %v; want %+v", tc.url, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "s3:/b", "http://b/p", "s3:///p", "s3://b/p?endpoint=127.0.0.1:9000", "s3://b?bucket=x", "s3://b?checksum=sha1"} {
		if _, err := parseURL(bad); err == nil {
			t.Errorf("parseURL(%q): got no error, want one", bad)
		}
	}
}
