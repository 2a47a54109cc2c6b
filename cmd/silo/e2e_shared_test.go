package main

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/jackc/pgx/v5"
	"github.com/openai/openai-go/v3"
)

// randomName returns prefix followed by 12 random hex digits.
func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// testPostgres returns a URL of the test database (SILO_TEST_POSTGRES_URL)
// whose search_path is a new schema of the test's own, dropped when it ends;
// it skips the test when no database is given.
func testPostgres(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SILO_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("SILO_TEST_POSTGRES_URL is not set: no PostgreSQL to test against (.ci/run starts one)")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("SILO_TEST_POSTGRES_URL: want a postgres:// URL")
	}
	schema := randomName("silo_e2e_")
	ctx := context.Background()
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if err := exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// testS3 returns a URL of a new prefix in the test bucket (SILO_TEST_S3_URL),
// creating the bucket if need be; it skips the test when no bucket is given.
func testS3(t *testing.T) string {
	t.Helper()
	raw := os.Getenv("SILO_TEST_S3_URL")
	if raw == "" {
		t.Skip("SILO_TEST_S3_URL is not set: no S3 server to test against (.ci/run starts MinIO)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" {
		t.Fatalf("SILO_TEST_S3_URL: want an s3:// URL")
	}
	ensureBucket(t, s3Client(t, u.Query().Get("endpoint")), u.Host)
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + randomName("e2e-")
	return u.String()
}

// s3Client returns a client of the S3 endpoint with the credentials of the
// standard AWS variables.
func s3Client(t *testing.T, endpoint string) *s3.Client {
	t.Helper()
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), ""),
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	})
}

// ensureBucket creates the bucket unless it exists.
func ensureBucket(t *testing.T, c *s3.Client, bucket string) {
	t.Helper()
	_, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		t.Fatalf("creating bucket %s: %v", bucket, err)
	}
}

// countObjects counts the objects under the prefix of an s3:// URL.
func countObjects(t *testing.T, c *s3.Client, blobsURL string) int {
	t.Helper()
	u, err := url.Parse(blobsURL)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{
		Bucket: aws.String(u.Host), Prefix: aws.String(strings.Trim(u.Path, "/") + "/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("listing the bucket: %v", err)
		}
		n += len(page.Contents)
	}
	return n
}

// md5Hex is the md5 digest of b, as the API's md5 field takes it.
func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// fileContent downloads a File through c.
func fileContent(t *testing.T, c *openai.Client, id string) []byte {
	t.Helper()
	resp, err := c.Files.Content(context.Background(), id)
	if err != nil {
		t.Fatalf("downloading %s: %v", id, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("downloading %s: %v", id, err)
	}
	return b
}
